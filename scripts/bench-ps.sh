#!/usr/bin/env bash
# `boxwise ps` with about 500 processes on the machine (480 sleeps and 20 Go workers started
# here), timed by hyperfine; all started processes are killed on exit.
# Needs: hyperfine, go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=$(scripts/build-static.sh | tail -n 1)
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

(cd tests/go/worker && CGO_ENABLED=0 GOFLAGS= go build -trimpath -o "$work/worker" .)
for _ in $(seq 480); do sleep 600 & pids+=($!); done
for _ in $(seq 20); do "$work/worker" sleep >/dev/null & pids+=($!); done
sleep 1
echo "processes: $(ls /proc | grep -c '^[0-9]')" >&2
echo "Go processes listed: $(( $("$bin" ps | wc -l) - 1 ))" >&2
hyperfine -N --warmup 3 --runs "${RUNS:-30}" "$bin ps" "$bin ps --json"
