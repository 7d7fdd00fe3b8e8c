#!/usr/bin/env bash
# Side-by-side numbers for docs/benchmarks.md: `boxwise bench net` against iperf3, qperf and
# sockperf over host loopback, and `boxwise bench io` against fio on the same directory, in
# one run. Needs root for the namespaced modes; prints Markdown tables on stdout.
#
#   scripts/bench-peers.sh [BOXWISE] [DIR]    (defaults: target/debug/boxwise, /var/tmp)
#
# Peers: Debian's iperf3, qperf, sockperf, fio. sockperf reports half the round trip, so its
# numbers are doubled here to compare with boxwise's and qperf's... qperf's tcp_lat is also
# one-way (half the round trip) and is doubled too.
set -euo pipefail
bw="${1:-target/debug/boxwise}"
dir="${2:-/var/tmp}"
secs=${BENCH_SECS:-3}
port=5211
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "date: $(date -u +%FT%TZ); kernel $(uname -r); $(nproc) CPUs"
# Each round runs every tool once, one after the other; more than one round shows how far
# consecutive runs of the same tool move on this machine (ROUNDS, default 2). The body is
# not indented: it holds inline Python.
one_round() {
echo "| tool | mode | p50 round trip (us) | p99 (us) | throughput (MiB/s) |"
echo "|---|---|---|---|---|"
"$bw" bench net --modes host,veth,bridge --duration "${secs}s" --json |
  python3 -c 'import json,sys
for r in json.load(sys.stdin)["results"]:
    print("| boxwise bench net | %s | %.1f | %.1f | %.0f |" % (r["mode"], r["p50_us"], r["p99_us"], r["throughput_bytes_per_second"]/1048576))'

iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -J |
  python3 -c 'import json,sys
d=json.load(sys.stdin)["end"]["sum_received"]
print("| iperf3 -c 127.0.0.1 | host | | | %.0f |" % (d["bits_per_second"]/8/1048576))'

qperf --listen_port 19765 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
qperf --listen_port 19765 127.0.0.1 -t "$secs" -m 64 -vu tcp_lat 2>/dev/null |
  awk '/latency/ {v=$3; u=$4; if (u=="ms") v*=1000; if (u=="ns") v/=1000; printf "| qperf tcp_lat (one-way x2) | host | %.1f (mean) | | |\n", v*2}'

sockperf sr --tcp -i 127.0.0.1 -p 11811 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
sockperf pp --tcp -i 127.0.0.1 -p 11811 -t "$secs" -m 64 2>/dev/null |
  awk '/<MAX> observation/ {} /percentile 50.000/ {p50=$NF} /percentile 99.000/ {p99=$NF}
       END {printf "| sockperf ping-pong (one-way x2) | host | %.1f | %.1f | |\n", p50*2, p99*2}'

echo
echo "| tool | dir | block | sync | p50 write (us) | p99 (us) | MiB/s |"
echo "|---|---|---|---|---|---|---|"
"$bw" bench io --dir "$dir" --block 4k --sync none,fsync --duration "${secs}s" --file-size 16m --buffers none --json |
  python3 -c 'import json,sys
for r in json.load(sys.stdin)["results"]:
    print("| boxwise bench io | %s (%s) | 4k | %s | %.2f | %.1f | %.1f |" % (r["dir"], r["fs_type"], r["sync"], r["p50_us"], r["p99_us"], r["throughput_bytes_per_second"]/1048576))'
for fsync in 0 1; do
  fio --name=w --rw=write --bs=4k --size=16m --ioengine=psync --time_based --runtime="$secs" \
    --fsync="$fsync" --filename="$dir/.bench-peers-fio.tmp" --output-format=json |
    FSYNC=$fsync DIR="$dir" python3 -c 'import json,sys,os
j=json.load(sys.stdin)["jobs"][0]
w=j["write"]; p=w["clat_ns"]["percentile"]
s=j.get("sync",{}).get("lat_ns",{}).get("percentile",{}) if os.environ["FSYNC"]=="1" else {}
p50=(p["50.000000"]+s.get("50.000000",0))/1000; p99=(p["99.000000"]+s.get("99.000000",0))/1000
print("| fio psync%s | %s | 4k | %s | %.2f | %.1f | %.1f |" % (" --fsync=1" if os.environ["FSYNC"]=="1" else "", os.environ["DIR"], "fsync" if os.environ["FSYNC"]=="1" else "none", p50, p99, w["bw_bytes"]/1048576))'
  rm -f "$dir/.bench-peers-fio.tmp"
done
}

for round in $(seq 1 "${ROUNDS:-2}"); do
  echo
  echo "round $round (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  echo
  one_round
done

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
