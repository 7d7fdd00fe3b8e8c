#!/usr/bin/env bash
# Builds a statically linked boxwise (glibc crt-static) that runs in a
# `FROM scratch` image, checks that it really is static, and prints its path
# as the last line of stdout. Cargo's progress goes to stderr.
#
# --target is passed explicitly so RUSTFLAGS reach only boxwise, not build
# scripts or proc macros, and the normal host build in target/ is untouched.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

arch=$(uname -m)
case "$arch" in
  x86_64 | aarch64) target="${arch}-unknown-linux-gnu" ;;
  *) echo "build-static.sh: unsupported architecture $arch" >&2; exit 1 ;;
esac

# relocation-model=static gives a plain static executable instead of a static PIE: no
# self-relocation at start-up, half the page faults, about 0.2 ms less per `exec` (see
# docs/benchmarks.md). The launcher lives only until it execs the program, so losing ASLR
# for it costs little.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
  cargo build --release --target "$target" -p boxwise >&2

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/$target/release/boxwise"
[ -x "$bin" ] || { echo "build-static.sh: $bin was not built" >&2; exit 1; }

# A dynamic binary would fail in a scratch image with a confusing "no such
# file or directory" (the missing loader), so refuse it here.
if command -v file >/dev/null; then
  desc=$(file -b "$bin")
  case "$desc" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "build-static.sh: $bin is not static: $desc" >&2; exit 1 ;;
  esac
elif command -v ldd >/dev/null; then
  if ldd "$bin" 2>&1 | grep -q '=>'; then
    echo "build-static.sh: $bin links shared libraries:" >&2
    ldd "$bin" >&2
    exit 1
  fi
else
  echo "build-static.sh: neither file nor ldd found; static linking unchecked" >&2
fi

echo "$bin"
