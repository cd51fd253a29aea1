#!/usr/bin/env python3
"""The least time two durable commits take on this machine's disk, with no Orkestra code.

A non-3DS payment makes two writes durable before it answers: its row before the bank
call and the bank's outcome after it (ARCHITECTURE.md, "Invariants"). However fast the code,
a payment's own time cannot beat two commits in a row, and its p99 cannot beat theirs.
This measures that floor, one writer and nothing else running:

  * SQLite: WAL, synchronous=FULL (as Orkestra ships), a file beside the data directory;
  * PostgreSQL (with --postgres URL): pgbench, server defaults (fsync, synchronous_commit on).

    python3 crates/loadgen/commit-floor.py [--dir DIR] [--rounds N] [--postgres URL]

Prints p50 / p90 / p99 / max in ms of one commit and of two commits in a row.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time


def quantiles(values):
    values = sorted(values)

    def at(p):
        return values[min(len(values) - 1, int(p * len(values)))]

    return (
        f"p50 {at(0.50):7.3f}  p90 {at(0.90):7.3f}  p99 {at(0.99):7.3f}  "
        f"max {values[-1]:7.3f} ms  (n={len(values)})"
    )


def sqlite_floor(directory, rounds):
    path = os.path.join(directory, "commit-floor.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t(v TEXT)")

    def commit():
        # About the size of a payment row with its routing explanation.
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (hex(randomblob(600)))")
        db.execute("COMMIT")

    ones, pairs = [], []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        commit()
        middle = time.perf_counter_ns()
        commit()
        ended = time.perf_counter_ns()
        ones += [(middle - started) / 1e6, (ended - middle) / 1e6]
        pairs.append((ended - started) / 1e6)
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    print(f"SQLite      one commit          {quantiles(ones)}")
    print(f"SQLite      two commits in a row {quantiles(pairs)}")


def postgres_floor(url, rounds):
    base, _, _ = url.rpartition("/")
    name = f"commit_floor_{os.getpid()}"
    psql = ["psql", "-qX", "-v", "ON_ERROR_STOP=1"]
    subprocess.run(psql + [f"{base}/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
    work = tempfile.mkdtemp(prefix="commit-floor-")
    try:
        db = f"{base}/{name}"
        subprocess.run(psql + [db, "-c", "CREATE TABLE t(v TEXT)"], check=True)
        results = {}
        for label, commits in (("one commit", 1), ("two commits in a row", 2)):
            script = os.path.join(work, f"{commits}.sql")
            with open(script, "w") as f:
                # One autocommitted statement per commit: one round trip, as Orkestra's
                # payment insert on PostgreSQL.
                f.write("INSERT INTO t VALUES (repeat(md5(random()::text), 38));\n" * commits)
            prefix = os.path.join(work, f"log{commits}")
            subprocess.run(
                ["pgbench", "-n", "-c", "1", "-t", str(rounds), "-f", script,
                 "-l", "--log-prefix", prefix, db],
                check=True, capture_output=True,
            )
            latencies = []
            for log in os.listdir(work):
                if log.startswith(f"log{commits}"):
                    with open(os.path.join(work, log)) as f:
                        # client transaction latency_us script_no epoch epoch_us
                        latencies += [int(line.split()[2]) / 1000 for line in f]
            results[label] = latencies
        for label, latencies in results.items():
            print(f"PostgreSQL  {label:<20} {quantiles(latencies)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(psql + [f"{base}/postgres", "-c", f"DROP DATABASE IF EXISTS {name}"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="target", help="where the SQLite probe file goes")
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--postgres", help="e.g. postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sqlite_floor(args.dir, args.rounds)
    if args.postgres:
        postgres_floor(args.postgres, args.rounds)


if __name__ == "__main__":
    main()
