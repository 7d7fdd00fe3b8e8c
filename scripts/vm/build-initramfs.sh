#!/usr/bin/env bash
# Builds the VM tests' initramfs (cpio newc, gzip): busybox-static with its applet links, the
# static boxwise, the Go probe built by Go 1.19, 1.23, 1.25 and 1.26, the cgns and threads
# helpers, and the guest's /init and /scenarios.sh from tests/vm/.
#
#   scripts/vm/build-initramfs.sh OUTDIR     prints OUTDIR/initramfs.gz
#
# Go builds are cached in OUTDIR/go; the image is rebuilt on every call (a few seconds), so it
# never holds a stale file. BOXWISE_STATIC_BIN names a ready static boxwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:?usage: build-initramfs.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
godir="${BOXWISE_GO_DIR:-/opt/boxwise-go}"

busybox=/bin/busybox
if ! file -b "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  echo "build-initramfs.sh: $busybox is not busybox-static (apt-get install busybox-static)" >&2
  exit 1
fi

boxwise="${BOXWISE_STATIC_BIN:-$(bash "$root/scripts/build-static.sh" | tail -1)}"

# Go 1.25+ turns container-aware GOMAXPROCS on only for modules that declare go >= 1.25 (the
# go line sets DefaultGODEBUG), as a program written for that Go would; so the 1.25 and 1.26
# probes are built from a copy whose go.mod declares their own version.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOFLAGS=
unset GOROOT
# `go build` needs a cache; without HOME use one beside the output.
if [[ -z "${HOME:-}" && -z "${GOCACHE:-}" && -z "${XDG_CACHE_HOME:-}" ]]; then
  export GOCACHE="$out/go/cache" GOPATH="$out/go/gopath"
fi
mkdir -p "$out/go"
gobuild() { # GO SRC GOVERSION|"" DEST
  local go=$1 src=$2 gover=$3 dest=$4
  local dir="$src"
  if [[ -n "$gover" ]]; then
    dir="$out/go/src-$(basename "$src")-$gover"
    rm -rf "$dir"
    cp -r "$src" "$dir"
    sed -i "s/^go .*/go $gover/" "$dir/go.mod"
  fi
  (cd "$dir" && "$go" build -trimpath -o "$dest.tmp" .)
  mv "$dest.tmp" "$dest"
}
probe="$root/tests/go/probe"
gobuild go "$probe" "" "$out/go/probe-go119"
gobuild /usr/lib/go-1.23/bin/go "$probe" "" "$out/go/probe-go123"
gobuild "$godir/go-1.25/bin/go" "$probe" 1.25 "$out/go/probe-go125"
gobuild "$godir/go-1.26/bin/go" "$probe" 1.26 "$out/go/probe-go126"
# The repo's probe as it stands (go 1.19 in go.mod) built by Go 1.25: the runtime ignores the
# quota (containermaxprocs=0), so exec must set GOMAXPROCS for it.
gobuild "$godir/go-1.25/bin/go" "$probe" "" "$out/go/probe-go125old"
gobuild go "$root/tests/go/cgns" "" "$out/go/cgns"
gobuild go "$root/tests/go/threads" "" "$out/go/threads"
# gmpwatch (GOMAXPROCS every 200 ms) for run --at: Go 1.25 follows the change, 1.23 does not.
gobuild "$godir/go-1.25/bin/go" "$root/tests/go/gmpwatch" "" "$out/go/gmpwatch-go125"
gobuild /usr/lib/go-1.23/bin/go "$root/tests/go/gmpwatch" 1.23 "$out/go/gmpwatch-go123"

stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,go,proc,sys,dev,tmp,run}
cp "$busybox" "$stage/bin/busybox"
# Applet links where busybox itself would put them (bin/sh, sbin/poweroff, ...).
for applet in $("$busybox" --list-full); do
  [[ -e "$stage/$applet" ]] || ln -s /bin/busybox "$stage/$applet"
done
cp "$boxwise" "$stage/bin/boxwise"
cp "$out/go/cgns" "$out/go/threads" "$stage/bin/"
cp "$out"/go/probe-go* "$stage/go/"
cp "$out"/go/gmpwatch-go* "$stage/go/"
install -m 755 "$root/tests/vm/init" "$stage/init"
install -m 755 "$root/tests/vm/scenarios.sh" "$stage/scenarios.sh"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
  | gzip -1 >"$out/initramfs.gz.tmp"
mv "$out/initramfs.gz.tmp" "$out/initramfs.gz"
rm -rf "$stage"
echo "$out/initramfs.gz"
