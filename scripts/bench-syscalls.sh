#!/usr/bin/env bash
# `boxwise syscalls` against strace -c -f, perf trace -s and bpftrace on the same Go
# workloads (tests/go/syscalls): a write storm (4 goroutines x 100k write(2) to /dev/null)
# and loopback HTTP (20k keep-alive requests, server and client in one process).
# Wall time per run; RUNS (default 5) rounds, the tools interleaved within each round;
# medians and the ratio to the untraced program. The deterministic write count each tool
# reports is printed too. perf and bpftrace read tracepoint formats from tracefs, which is
# not mounted on this machine: they run in a private mount namespace with tracefs mounted
# there (gone when they exit).
# Then the floor (FLOOR=0 skips it): the write storm bare, under empty programs on
# sys_enter/sys_exit (what attaching anything there costs), as fentry/fexit on x64_sys_call
# (a row that says "refused" where the kernel does not allow trampolines), under the tgid check alone, the
# tgid check plus a clock read, and boxwise's own programs, with the command's CPU time
# beside the wall time (steadier on a busy machine); crates/syscalls/examples/floor.rs.
# Needs: root, go, strace, linux-perf, bpftrace.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${BOXWISE:-$(scripts/build-static.sh | tail -n 1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd tests/go/syscalls && CGO_ENABLED=0 go build -trimpath -o "$work/prog" .)
prog=$work/prog
runs=${RUNS:-5}

with_tracefs() {
  unshare -m --propagation private sh -c 'mount -t tracefs nodev /sys/kernel/tracing && exec "$@"' sh "$@"
}
bt='tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @[args->id] = count(); }'

tool() { # tool NAME WORKLOAD... : runs the workload under NAME, output to $work/out
  local name=$1; shift
  case $name in
    bare) "$@" >/dev/null ;;
    boxwise) "$bin" syscalls --json -- "$@" >"$work/out" ;;
    boxwise-latency) "$bin" syscalls --json --latency -- "$@" >"$work/out" ;;
    strace) strace -c -f -o "$work/out" "$@" >/dev/null ;;
    perf) with_tracefs perf trace -s -o "$work/out" -- "$@" >/dev/null 2>&1 ;;
    bpftrace) with_tracefs bpftrace -e "$bt" -c "$*" >"$work/out" 2>/dev/null ;;
  esac
}

writes_seen() { # the write(2) count in $work/out as NAME reports it
  case $1 in
    boxwise*) python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((r["calls"] for r in d["rows"] if r["syscall"]=="write"),0))' "$work/out" ;;
    strace) awk '$NF=="write"{print $4}' "$work/out" ;;
    perf) awk '$1=="write"{s+=$2} END{print s+0}' "$work/out" ;;
    bpftrace) awk -F': ' '/^@\[1\]/{print $2}' "$work/out" ;;
    *) echo - ;;
  esac
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# TOOLS="bare boxwise" limits the run to some tools (the full set takes minutes).
read -r -a tools <<<"${TOOLS:-bare boxwise boxwise-latency strace perf bpftrace}"
for workload in "writes 4 100000" "http 20000"; do
  # shellcheck disable=SC2086
  set -- "$prog" $workload
  : >"$work/times"
  for _ in $(seq "$runs"); do
    for t in "${tools[@]}"; do
      start=$(date +%s%N)
      tool "$t" "$@"
      end=$(date +%s%N)
      echo "$t $(( (end - start) / 1000 )) $(writes_seen "$t")" >>"$work/times"
    done
  done
  echo "workload: $workload ($runs interleaved runs, median wall time)"
  python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
order = []
for r in rows:
    if r[0] not in order: order.append(r[0])
med = {t: statistics.median(int(r[1]) for r in rows if r[0] == t) for t in order}
print("| tool | median s | vs untraced | writes counted |")
print("|:---|---:|---:|---:|")
for t in order:
    seen = sorted({r[2] for r in rows if r[0] == t})
    print(f"| {t} | {med[t]/1e6:.3f} | {med[t]/med['bare']:.2f}x | {', '.join(seen)} |")
PY
  echo
done
if [ "${FLOOR:-1}" = 1 ]; then
  cargo build --release -p boxwise-syscalls --example floor >&2
  echo "floor: writes 4 100000 ($runs interleaved runs, medians)"
  "${CARGO_TARGET_DIR:-target}/release/examples/floor" "$runs" "$prog" writes 4 100000
  echo
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
