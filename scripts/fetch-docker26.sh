#!/usr/bin/env bash
# Unpack Debian trixie's Docker engine (docker.io, 26.x) and trixie's C library under one
# directory, without installing them: the image tests need a real Docker 25+ `docker save`
# archive (an OCI layout inside the tar), and this machine's engine is 20.10. apt reads a
# private sources directory and keeps its lists and downloads in a private cache, as
# scripts/fetch-go.sh does, so the machine's own apt state is never touched.
#
#   scripts/fetch-docker26.sh [DEST]   DEST defaults to $BOXWISE_DOCKER26_DIR or /opt/boxwise-docker26
#
# Leaves DEST/root (the unpacked packages) and DEST/run, a wrapper that runs one of the
# unpacked programs (dockerd, docker, docker-init) through trixie's own loader and libraries,
# and prints DEST. Idempotent: an existing DEST/run is kept.
set -euo pipefail

dest="${1:-${BOXWISE_DOCKER26_DIR:-/opt/boxwise-docker26}}"
if [[ -x "$dest/run" ]]; then
  echo "$dest"
  exit 0
fi

# shellcheck source=lib/private-apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/private-apt.sh"
private_apt trixie
# docker.io: dockerd and the CLI; docker-cli is split out in trixie. libc6: the loader and
# glibc they are linked against. The rest are the libraries dockerd links (see `ldd`).
(cd "$work/pkgs" && apt-get "${apt_opts[@]}" -qq download docker.io docker-cli libc6 </dev/null)

rm -rf "$dest"
mkdir -p "$dest/root"
for deb in "$work/pkgs"/*.deb; do
  dpkg -x "$deb" "$dest/root"
done
cat >"$dest/run" <<'RUN'
#!/bin/sh
# Runs one of trixie's docker programs with trixie's loader and C library.
here="$(dirname "$(readlink -f "$0")")"
prog="$1"
shift
for d in usr/bin usr/sbin; do
  [ -x "$here/root/$d/$prog" ] && exec "$here/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
    --library-path "$here/root/usr/lib/x86_64-linux-gnu" "$here/root/$d/$prog" "$@"
done
echo "run: no program $prog" >&2
exit 127
RUN
chmod +x "$dest/run"
"$dest/run" dockerd --version >&2
echo "$dest"
