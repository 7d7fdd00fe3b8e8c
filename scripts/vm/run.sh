#!/usr/bin/env bash
# By hand: fetch the kernel, build the initramfs, boot the guest once and print its console.
# The test (crates/boxwise/tests/vm.rs) does the same and checks every scenario.
#
#   scripts/vm/run.sh [OUTDIR]      OUTDIR defaults to target/vm
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/target/vm}"
kernel="$(bash "$root/scripts/vm/fetch-kernel.sh" | tail -1)"
initrd="$(bash "$root/scripts/vm/build-initramfs.sh" "$out" | tail -1)"
log="$out/serial.log"
rm -f "$log"
start=$(date +%s)
timeout -k 10 900 bash "$root/scripts/vm/boot.sh" "$kernel" "$initrd" "$log" 600 || echo "run.sh: qemu exited with $?" >&2
echo "run.sh: boot took $(($(date +%s) - start)) s; console in $log" >&2
cat "$log"
