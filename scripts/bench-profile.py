#!/usr/bin/env python3
"""Overhead of CPU profilers on a CPU-bound Go program, side by side in one run.

tests/go/spin (2 busy goroutines) runs for SECS seconds under each profiler and reports the
loops it finished per CPU second it used: a profiler's cost lands on the target's threads
(signal handling for runtime/pprof, interrupt-time stack walks for perf_event sampling), so
work per CPU second is what it takes away, and it does not depend on how busy the rest of
the machine is. Modes:

  baseline          no profiler
  runtime/pprof     the in-process CPU profile (100 Hz), spin -cpuprofile
  boxwise 99 Hz     boxwise profile --pid --hz 99
  boxwise 999 Hz    boxwise profile --pid --hz 999
  perf 99 Hz        perf record -e cpu-clock -F 99 -g -p PID
  perf 999 Hz       perf record -e cpu-clock -F 999 -g -p PID

Usage (root): scripts/bench-profile.py   [env: RUNS=5 SECS=8 BOXWISE=target/debug/boxwise
GO=/opt/boxwise-go/go-1.25/bin/go]
"""
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", "5"))
SECS = int(os.environ.get("SECS", "8"))
BOXWISE = os.environ.get("BOXWISE", os.path.join(ROOT, "target/debug/boxwise"))
GO = os.environ.get("GO", "/opt/boxwise-go/go-1.25/bin/go")


def build(tmp):
    out = os.path.join(tmp, "spin")
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOPROXY="off")
    subprocess.run([GO, "build", "-trimpath", "-o", out, "."],
                   cwd=os.path.join(ROOT, "tests/go/spin"), env=env, check=True)
    return out


def one(spin, mode, tmp):
    args = [spin, "-for", f"{SECS}s", "-threads", "2", "-report"]
    if mode == "runtime/pprof":
        args += ["-cpuprofile", os.path.join(tmp, "rt.pprof")]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    pid = str(p.pid)
    prof = None
    window = str(SECS - 1)
    if mode.startswith("boxwise"):
        hz = mode.split()[1]
        prof = subprocess.Popen([BOXWISE, "profile", "--pid", pid, "--hz", hz, "--for",
                                 f"{window}s", "-o", os.path.join(tmp, "bw.pprof")],
                                stdout=subprocess.DEVNULL)
    elif mode.startswith("perf"):
        hz = mode.split()[1]
        prof = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", hz, "-g",
                                 "-p", pid, "-o", os.path.join(tmp, "perf.data"), "--",
                                 "sleep", window],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    p.wait()
    if prof:
        prof.wait()
    fields = dict(kv.split("=") for kv in out.split())
    return int(fields["loops"]) / float(fields["cpu_seconds"])


def main():
    if os.geteuid() != 0:
        sys.exit("bench-profile: run as root (perf_event_open on another process)")
    modes = ["baseline", "runtime/pprof", "boxwise 99", "boxwise 999", "perf 99", "perf 999"]
    with tempfile.TemporaryDirectory() as tmp:
        spin = build(tmp)
        results = {m: [] for m in modes}
        for _ in range(RUNS):
            for m in modes:  # interleaved, so drift in machine load hits every mode alike
                results[m].append(one(spin, m, tmp))
    base = statistics.median(results["baseline"])
    print(f"{RUNS} runs of {SECS}s each, 2 busy goroutines; loops per CPU second (median)")
    print(f"{'mode':<16} {'median':>8} {'min':>8} {'max':>8} {'overhead':>9}")
    for m in modes:
        v = results[m]
        med = statistics.median(v)
        label = m if m in ("baseline", "runtime/pprof") else f"{m} Hz"
        print(f"{label:<16} {med:8.1f} {min(v):8.1f} {max(v):8.1f} "
              f"{(1 - med / base) * 100:8.1f}%")


if __name__ == "__main__":
    main()
