#!/usr/bin/env python3
"""Start-up cost added by two boxwise builds, interleaved in random order so that a busy
machine's drift hits both alike (hyperfine runs one command after another).

    scripts/bench-exec-ab.py OLD_BOXWISE NEW_BOXWISE [ROUNDS] -- PROGRAM...

Prints the median wall time of each program alone and under `OLD exec` / `NEW exec`, and
the medians' differences.
"""
import os
import random
import statistics
import sys
import time

args = sys.argv[1:]
if "--" not in args or len(args[: args.index("--")]) not in (2, 3):
    sys.exit(__doc__)
head, progs = args[: args.index("--")], args[args.index("--") + 1 :]
old, new = head[0], head[1]
rounds = int(head[2]) if len(head) == 3 else 2000

cmds = {}
for p in progs:
    cmds[p] = [p]
    cmds[f"old exec -- {p}"] = [old, "exec", "--quiet", "--", p]
    cmds[f"new exec -- {p}"] = [new, "exec", "--quiet", "--", p]
env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
devnull = os.open(os.devnull, os.O_WRONLY)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
times = {k: [] for k in cmds}
order = list(cmds)
for _ in range(rounds):
    random.shuffle(order)
    for k in order:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(cmds[k][0], cmds[k], env, file_actions=quiet)
        os.waitpid(pid, 0)
        times[k].append((time.perf_counter_ns() - start) / 1e6)

med = {k: statistics.median(v) for k, v in times.items()}
print("| command | median |")
print("|---|---|")
for k in cmds:
    print(f"| {k} | {med[k]:.3f} ms |")
for p in progs:
    print(
        f"{p}: old exec adds {med[f'old exec -- {p}'] - med[p]:.3f} ms, "
        f"new exec adds {med[f'new exec -- {p}'] - med[p]:.3f} ms"
    )
