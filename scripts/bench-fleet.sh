#!/usr/bin/env bash
# `boxwise exporter` and `boxwise top` with 200 cgroups and 50 Go processes made here (under
# this shell's own cgroup, one Go worker in each of the first 50, each with a quota and a
# memory limit). Prints the exporter's RSS, its CPU per snapshot and at a 15 s interval, the
# scrape latency, and the CPU of one `top` refresh. Everything made is removed on exit.
# Needs: root, cgroups v1 (cpu, memory) or v2, go, curl, tmux.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${BOXWISE_STATIC_BIN:-$(scripts/build-static.sh | tail -n 1)}
work=$(mktemp -d)
pids=()
dirs=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  for d in "${dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# This shell's cgroup directory in the cpu and memory hierarchies (or the unified one).
own() { # controller
  awk -F: -v c="$1" '$2 ~ "(^|,)"c"(,|$)" {print $3}' /proc/self/cgroup
}
if mount_cpu=$(awk '$9=="cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo) && [ -n "$mount_cpu" ]; then
  mount_mem=$(awk '$9=="cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
  cpu_parent="$mount_cpu$(own cpu)"
  mem_parent="$mount_mem$(own memory)"
  v=1
else
  root=$(awk '$9=="cgroup2" {print $5; exit}' /proc/self/mountinfo)
  cpu_parent="$root$(awk -F: '$1=="0" {print $3}' /proc/self/cgroup)"
  mem_parent="$cpu_parent"
  v=2
fi
(cd tests/go/worker && CGO_ENABLED=0 GOFLAGS= GOTOOLCHAIN=local go build -trimpath -o "$work/worker" .)
for i in $(seq 200); do
  c="$cpu_parent/boxwise-bench-$$-$i"; m="$mem_parent/boxwise-bench-$$-$i"
  mkdir "$c"; dirs=("$c" "${dirs[@]}")
  if [ "$m" != "$c" ]; then mkdir "$m"; dirs=("$m" "${dirs[@]}"); fi
  if [ $v = 1 ]; then
    echo 50000 > "$c/cpu.cfs_quota_us"; echo $((256 << 20)) > "$m/memory.limit_in_bytes"
  else
    echo "50000 100000" > "$c/cpu.max" 2>/dev/null || true
    echo $((256 << 20)) > "$m/memory.max" 2>/dev/null || true
  fi
  if [ "$i" -le 50 ]; then
    sh -c 'echo $$ > "$1/cgroup.procs"; [ "$2" = "$1" ] || echo $$ > "$2/cgroup.procs"; exec env GOMAXPROCS=4 "$3" sleep' \
      sh "$c" "$m" "$work/worker" >/dev/null &
    pids+=($!)
  fi
done
sleep 1

ticks=$(getconf CLK_TCK)
cpu_of() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

# One snapshot, rendered: the work of each exporter refresh.
once=$( { /usr/bin/env time -f '%U %S %M' "$bin" exporter --once > "$work/metrics.txt"; } 2>&1 | tail -n1)
echo "cgroup version: v$v"
echo "series in one exposition: $(grep -vc '^#' "$work/metrics.txt")"
echo "Go processes exported: $(grep -c '^boxwise_go_info' "$work/metrics.txt")"
echo "cgroups exported: $(grep -c '^container_spec_cpu_quota' "$work/metrics.txt") with a quota"
echo "exporter --once: user ${once%% *} s, sys $(echo "$once" | cut -d' ' -f2) s, max RSS $(echo "$once" | cut -d' ' -f3) KiB"
# Where a snapshot's CPU goes: the cgroups alone, the Go processes alone (10 runs each).
for part in "--max-processes 0" "--max-cgroups 0"; do
  t=$( { /usr/bin/env time -f '%U %S' sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do $bin exporter --once $part >/dev/null; done"; } 2>&1 | tail -n1)
  awk -v p="$part" -v u="${t%% *}" -v s="${t##* }" 'BEGIN {printf "one snapshot with %s: %.1f ms CPU\n", p, 100*(u+s)}'
done

# The server: interval 15 s, scraped 20 times over a minute.
port=$((20000 + $$ % 20000))
"$bin" exporter --listen "127.0.0.1:$port" --interval 15s 2>/dev/null &
exporter=$!
pids+=($exporter)
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.1; done
start_cpu=$(cpu_of $exporter)
start=$(date +%s.%N)
: > "$work/lat"
for _ in $(seq 20); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" >> "$work/lat"
  sleep 3
done
end=$(date +%s.%N)
end_cpu=$(cpu_of $exporter)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$exporter/status")
echo "exporter RSS after a minute: $rss KiB"
awk -v a="$start_cpu" -v b="$end_cpu" -v s="$start" -v e="$end" \
  'BEGIN {printf "exporter CPU at a 15 s interval: %.3f%% of one core (%.2f s CPU in %.0f s)\n", 100*(b-a)/(e-s), b-a, e-s}'
sort -n "$work/lat" | awk '{a[NR]=$1} END {printf "scrape latency over %d scrapes: median %.1f ms, max %.1f ms\n", NR, 1000*a[int((NR+1)/2)], 1000*a[NR]}'

# A full snapshot (`exporter --once`, everything read, Go processes judged), 10 runs.
ten() { /usr/bin/env time -f '%U %S' sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do $1 >/dev/null; done" 2>&1 | tail -n1; }
full=$(ten "$bin exporter --once")
awk -v a="$full" 'BEGIN {split(a, x, " "); printf "full snapshot CPU: %.1f ms\n", 100*(x[1]+x[2])}'

# top's live screen as a user sees it: in a detached tmux pane at 80x24, refreshing every
# second. Its CPU from 5 s after the start (start-up and the first judgements done) over the
# next 60 s, per refresh: listing, counters, settings, the rows on screen, Go processes and
# drawing, averaged over every kind of refresh.
session="boxwise-bench-$$"
tmux new-session -d -s "$session" -x 80 -y 24 "$bin top"
top_cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; cleanup; }
trap top_cleanup EXIT INT TERM
sleep 5
top_pid=$(pgrep -P "$(tmux list-panes -t "$session" -F '#{pane_pid}')" -x boxwise || tmux list-panes -t "$session" -F '#{pane_pid}')
a=$(cpu_of "$top_pid"); t0=$(date +%s.%N)
sleep 60
b=$(cpu_of "$top_pid"); t1=$(date +%s.%N)
tmux kill-session -t "$session"
awk -v a="$a" -v b="$b" -v s="$t0" -v e="$t1" \
  'BEGIN {printf "top live refresh CPU: %.1f ms per refresh (%.2f s CPU in %.0f refreshes)\n", 1000*(b-a)/int(e-s), b-a, int(e-s)}'
