#!/usr/bin/env bash
# Boots the VM tests' guest once: Debian's kernel, the initramfs from build-initramfs.sh,
# cgroup2 only, 8 vCPUs under software emulation (/dev/kvm here cannot boot a stock kernel).
# The serial console goes to LOG. Execs qemu, so the caller's child is qemu itself and the
# caller can kill it by pid (crates/boxwise/tests/vm.rs bounds the boot that way).
#
#   scripts/vm/boot.sh KERNEL INITRAMFS LOG [GUEST_TIMEOUT_SECONDS]
set -euo pipefail

kernel="${1:?usage: boot.sh KERNEL INITRAMFS LOG [GUEST_TIMEOUT]}"
initrd="${2:?}"
log="${3:?}"
guest_timeout="${4:-600}"

# The guest's /init powers off after boxwise_vm_timeout seconds whatever happens.
exec qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 8 -m 1024 \
  -display none -monitor none -serial "file:$log" -no-reboot -nodefaults \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init boxwise_vm_timeout=$guest_timeout" \
  </dev/null
