#!/usr/bin/env bash
# `boxwise binary` and `boxwise binary --go-version-m` against `go version -m` on the same
# large Go binary (dockerd, about 75 MB, by default), in one hyperfine run.
# Needs: hyperfine, go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=$(scripts/build-static.sh | tail -n 1)
file=${1:-$(command -v dockerd || echo /usr/sbin/dockerd)}
ls -l "$file" >&2
cmp <("$bin" binary --go-version-m "$file") <(go version -m "$file") && echo "outputs identical" >&2
hyperfine -N --warmup 5 --runs "${RUNS:-50}" \
  "$bin binary $file" "$bin binary --go-version-m $file" "go version -m $file"
