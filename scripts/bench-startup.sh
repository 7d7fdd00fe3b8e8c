#!/usr/bin/env bash
# Start-up cost of `boxwise exec` and the run time of `boxwise inspect`, side by side with
# the bare program and with the peer (a Go program importing automaxprocs), in one
# hyperfine run. Prints a Markdown table of medians for docs/benchmarks.md. The two --dry-run
# rows differ only by reading the program's build info (what exec now does for every CMD).
#
# Needs: hyperfine, go, golang-uber-automaxprocs-dev (all from Debian).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=$(scripts/build-static.sh | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd tests/go/probe && CGO_ENABLED=0 GOFLAGS= go build -trimpath -o "$work/probe" .)
(cd tests/go/automaxprocs && GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 \
  go build -o "$work/automaxprocs" main.go)

runs=${RUNS:-2000}
hyperfine -N --warmup 200 --runs "$runs" --export-json "$work/exec.json" \
  -n 'true' '/bin/true' \
  -n 'boxwise exec -- true' "$bin exec --quiet -- /bin/true" \
  -n 'go probe' "$work/probe" \
  -n 'boxwise exec -- go probe' "$bin exec --quiet -- $work/probe" \
  -n 'go probe with automaxprocs' "$work/automaxprocs" \
  -n 'boxwise exec --dry-run' "$bin exec --quiet --dry-run" \
  -n 'boxwise exec --dry-run -- go probe' "$bin exec --quiet --dry-run -- $work/probe" >&2
hyperfine -N --warmup 50 --runs "$((runs / 4))" --export-json "$work/inspect.json" \
  -n 'boxwise inspect' "$bin inspect" \
  -n 'boxwise inspect --json' "$bin inspect --json" >&2

python3 - "$work/exec.json" "$work/inspect.json" <<'PY'
import json, sys
print("| command | median | mean ± σ | user | system |")
print("|---|---|---|---|---|")
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        ms = lambda s: f"{s * 1000:.3f} ms"
        print(f"| {r['command']} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['user'])} | {ms(r['system'])} |")
PY
