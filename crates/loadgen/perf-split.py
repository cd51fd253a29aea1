#!/usr/bin/env python3
"""Where the CPU went during a `perf record -a` of a load run (used by profile.sh).

    python3 crates/loadgen/perf-split.py perf.data SERVER_PID

Prints each party's share of all samples (both cores; `idle` is the idle loop), split into
kernel / program / libc. The Orkestra server is split by thread: tokio workers, the SQLite
write connection's worker thread (the busiest `sqlx-sqlite-worker`) and the readers'."""
import collections
import subprocess
import sys

data, server = sys.argv[1], sys.argv[2]
out = subprocess.run(
    ["perf", "script", "-i", data, "-F", "comm,pid,tid,ip,dso", "-G"],
    capture_output=True, text=True, check=True,
).stdout
samples = []
loadgen_pids = set()
for line in out.splitlines():
    parts = line.split()
    ids = [p for p in parts if "/" in p and p.replace("/", "").isdigit()]
    if not ids:
        continue
    pid, tid = ids[0].split("/")
    comm = line.split(ids[0])[0].strip()
    dso = parts[-1].strip("()")
    if comm == "loadgen":
        loadgen_pids.add(pid)
    samples.append((comm, pid, tid, dso))

sqlite_threads = collections.Counter(
    tid for comm, pid, tid, _ in samples if pid == server and comm.startswith("sqlx-sqlite")
)
writer = sqlite_threads.most_common(1)[0][0] if sqlite_threads else None

count = collections.Counter()
for comm, pid, tid, dso in samples:
    if pid == server:
        if comm.startswith("sqlx-sqlite"):
            who = "server: sqlite write conn" if tid == writer else "server: sqlite readers"
        elif comm.startswith("tokio"):
            who = "server: tokio workers"
        else:
            who = "server: " + comm
    elif comm == "swapper":
        who = "idle"
    elif comm.startswith("postgres"):
        who = "postgres backends"
    elif pid in loadgen_pids:
        who = "loadgen"
    else:
        who = "other: " + comm.split("/")[0]
    if "kernel" in dso:
        kind = "kernel"
    elif "libc" in dso:
        kind = "libc"
    else:
        kind = dso.rsplit("/", 1)[-1]
    count[(who, kind)] += 1

total = sum(count.values())
per_party = collections.Counter()
for (who, _), n in count.items():
    per_party[who] += n
for who, n in per_party.most_common(14):
    kinds = ", ".join(
        f"{kind} {100 * c / total:.1f}"
        for (w, kind), c in count.most_common()
        if w == who and 100 * c / total >= 0.3
    )
    print(f"{100 * n / total:5.1f}%  {who:28s} [{kinds}]")
print(f"({total} samples over both cores)")
