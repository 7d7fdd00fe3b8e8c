#!/usr/bin/env bash
# Unpack Debian's Go 1.25 and 1.26 toolchains (trixie-backports) under one directory, without
# installing them: installing would pull trixie's libc onto this bookworm machine. apt reads a
# private sources directory and keeps its lists and downloads in a private cache, so the
# machine's own apt state is never touched.
#
#   scripts/fetch-go.sh [DEST]       DEST defaults to $BOXWISE_GO_DIR or /opt/boxwise-go
#
# Leaves DEST/go-1.25/bin/go and DEST/go-1.26/bin/go (each a link to a GOROOT) and prints
# DEST.
# Idempotent: a version already unpacked is skipped.
set -euo pipefail

dest="${1:-${BOXWISE_GO_DIR:-/opt/boxwise-go}}"
versions=(1.25 1.26)

missing=()
for v in "${versions[@]}"; do
  [[ -x "$dest/go-$v/bin/go" ]] || missing+=("$v")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$dest"
  exit 0
fi

# shellcheck source=lib/private-apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/private-apt.sh"
private_apt trixie-backports

mkdir -p "$dest"
for v in "${missing[@]}"; do
  (cd "$work/pkgs" && apt-get "${apt_opts[@]}" -qq download "golang-$v-go" "golang-$v-src" </dev/null)
  # Debian splits GOROOT over /usr/lib/go-V (bin, pkg) and /usr/share/go-V (src) with
  # relative symlinks: unpack both packages into one tree so the links resolve, and point
  # DEST/go-V at the GOROOT inside it (go finds its GOROOT from its resolved executable).
  rm -rf "$dest/go-$v" "$dest/root-$v"
  for deb in "$work/pkgs"/golang-"$v"-*.deb; do
    dpkg -x "$deb" "$dest/root-$v"
  done
  ln -s "root-$v/usr/lib/go-$v" "$dest/go-$v"
  rm -f "$work/pkgs"/*.deb
  "$dest/go-$v/bin/go" version >&2
done
echo "$dest"
