#!/usr/bin/env bash
# Unpacks Debian's current cloud kernel (the version linux-image-cloud-amd64 depends on) under
# a cache directory outside the repo, for the VM tests. The package is fetched with
# `apt-get download` and unpacked with `dpkg -x`: no kernel is installed on the host.
#
#   scripts/vm/fetch-kernel.sh [DEST]    DEST defaults to $BOXWISE_VM_DIR or /opt/boxwise-vm
#
# Leaves DEST/vmlinuz (a link to the unpacked kernel) and prints its path.
# Idempotent: a version already unpacked is not fetched again.
set -euo pipefail

dest="${1:-${BOXWISE_VM_DIR:-/opt/boxwise-vm}}"

# The metapackage's Depends names the current ABI (linux-image-6.1.0-N-cloud-amd64).
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
  | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [[ -z "$pkg" ]]; then
  # No apt lists (or no network): fall back to a kernel already unpacked.
  if [[ -e "$dest/vmlinuz" ]]; then
    readlink -f "$dest/vmlinuz"
    exit 0
  fi
  echo "fetch-kernel.sh: apt-cache knows no linux-image-cloud-amd64 (run apt-get update)" >&2
  exit 1
fi
ver=${pkg#linux-image-}
kernel="$dest/$pkg/boot/vmlinuz-$ver"

if [[ ! -f "$kernel" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" </dev/null)
  rm -rf "$dest/$pkg.tmp"
  mkdir -p "$dest/$pkg.tmp"
  dpkg -x "$work"/linux-image-*.deb "$dest/$pkg.tmp"
  rm -rf "$dest/$pkg"
  mv "$dest/$pkg.tmp" "$dest/$pkg"
  [[ -f "$kernel" ]] || { echo "fetch-kernel.sh: $pkg holds no boot/vmlinuz-$ver" >&2; exit 1; }
fi
ln -sfn "$pkg/boot/vmlinuz-$ver" "$dest/vmlinuz"
echo "$kernel"
