#!/usr/bin/env bash
# The built-in load generator (`boxwise load`) beside wrk, on the same Go hello server in the
# same run. The server runs on CPU 0 (GOMAXPROCS=1), each load generator on CPU 1 alone, all on
# 127.0.0.1, every process bounded in time. Prints, per tool: requests/s achieved, latency
# percentiles, and the generator's own CPU time per request (user+sys), which says how many
# requests/s it could drive on one core.
# Needs: go, wrk (apt-get install golang-go wrk), 2 CPUs. DURATION (s), RATE, CONNECTIONS and
# MAX_RATE (an extra run above the target) may be set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${DURATION:-10}
rate=${RATE:-20000}
conns=${CONNECTIONS:-16}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}

bin=$(scripts/build-static.sh | tail -n 1)
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

(cd tests/go/hello && CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOFLAGS= go build -trimpath -o "$work/hello" .)
GOMAXPROCS=1 taskset -c "$server_cpu" "$work/hello" -addr 127.0.0.1:0 -for 10m >"$work/hello.out" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/hello.out" 2>/dev/null && break; sleep 0.05; done
url="http://$(awk '/listening on/ {print $3}' "$work/hello.out")/"
echo "server: $url (Go $(go env GOVERSION), GOMAXPROCS=1, CPU $server_cpu); generators on CPU $load_cpu" >&2

# Runs a command on the load CPU and prints its output, then its CPU time (user+sys) per
# request and the requests/s one core would sustain at that cost. $1 is an awk program
# that prints the request count from the output.
timed() {
  local count=$1 out="$work/out" t="$work/time"
  shift
  taskset -c "$load_cpu" /usr/bin/time -f '%U %S' -o "$t" timeout $((duration + 60)) "$@" >"$out"
  cat "$out"
  n=$(awk "$count" "$out")
  awk -v n="$n" '{c = $1 + $2; printf "cpu: %.2f s (user %.2f, sys %.2f) for %d requests: %.1f us/request, %.0f requests/s per CPU-second\n", c, $1, $2, n, c * 1e6 / n, n / c}' "$t"
}

echo "## warm-up" >&2
taskset -c "$load_cpu" timeout 30 wrk -t1 -c"$conns" -d2s "$url" >/dev/null

echo "## wrk -t1 -c$conns -d${duration}s (closed loop: as fast as the server answers)"
timed '/requests in/ {print $1}' wrk -t1 -c"$conns" -d"${duration}s" --latency "$url"

echo
echo "## boxwise load --rate $rate --connections $conns --duration ${duration}s (open loop)"
timed '/^requests / {print $2}' "$bin" load "$url" --rate "$rate" --duration "${duration}s" --connections "$conns"

if [ -n "${MAX_RATE:-}" ]; then
  echo
  echo "## boxwise load --rate $MAX_RATE (above the target, to look for the ceiling)"
  timed '/^requests / {print $2}' "$bin" load "$url" --rate "$MAX_RATE" --duration "${duration}s" --connections "$conns"
fi
