#!/usr/bin/env bash
# `boxwise image` on a big generated image (default 1 GiB in 50,000 files, two layers: the
# second overwrites a tenth of the files) against the floor of just getting the bytes out
# of the engine: `docker save` into a file, and `docker save | tar -t`. Times by hyperfine,
# peak RSS by /usr/bin/time. The image, archive and build context are removed on exit.
# Needs: docker, hyperfine, python3, GNU time (/usr/bin/time) if present.
# FILES and MIB change the size: FILES=5000 MIB=100 scripts/bench-image.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=${FILES:-50000}
mib=${MIB:-1024}
runs=${RUNS:-3}
bin=${BOXWISE_BIN:-$(scripts/build-static.sh | tail -n 1)}
work=$(mktemp -d)
tag="boxwise-bench-image-$$"
cleanup() { docker rmi -f "$tag" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

python3 - "$work/ctx" "$files" "$mib" <<'PY'
import os, sys
root, files, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = mib * 1024 * 1024 // files
block = os.urandom(1 << 20)
for i in range(files):
    d = os.path.join(root, "files", f"d{i % 100:03d}")
    os.makedirs(d, exist_ok=True)
    off = (i * 7919) % ((1 << 20) - 1)
    data = (block[off:] + block)[:size]
    with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
        f.write(data)
os.makedirs(os.path.join(root, "again", "files"), exist_ok=True)
for i in range(0, files, 10):
    d = os.path.join(root, "again", "files", f"d{i % 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
        f.write(block[:size])
PY
printf 'FROM scratch\nCOPY files /files\nCOPY again /\n' > "$work/ctx/Dockerfile"
docker build --no-cache -q -t "$tag" "$work/ctx" >/dev/null
rm -rf "$work/ctx"
docker save -o "$work/image.tar" "$tag"
echo "image: $files files, $mib MiB; archive $(du -h "$work/image.tar" | cut -f1)" >&2

if [ -x /usr/bin/time ]; then
  for src in "docker://$tag" "$work/image.tar"; do
    /usr/bin/time -f "peak RSS %M KiB: boxwise image $src" "$bin" image "$src" --json >/dev/null
  done
fi
hyperfine -N --runs "$runs" \
  -n "docker save > file" "docker save -o $work/again.tar $tag" \
  -n "docker save | tar -t" "sh -c 'docker save $tag | tar -t >/dev/null'" \
  -n "boxwise image (engine API)" "$bin image docker://$tag --json" \
  -n "boxwise image (archive)" "$bin image $work/image.tar --json"
