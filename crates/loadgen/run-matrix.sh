#!/usr/bin/env bash
# The load matrix of BENCHMARKS.md: {SQLite, PostgreSQL} x {in-process simulator, separate
# `orkestra sim` process} x concurrency {1, 10, 100}, each with a payment run and a
# sim-direct run at the same concurrency. Loopback only; every run is bounded.
#
#   cargo build --release -p orkestra -p loadgen
#   bash crates/loadgen/run-matrix.sh [OUT_DIR] [REPS]
#
# Env: BIN (default target/release), PG_URL (default postgres://postgres@127.0.0.1:5432),
# PORT (8080), SIM_PORT (9090), CONCURRENCY ("1 10 100"), DBS ("sqlite postgres"),
# SIMS ("inproc external"), PG_ANALYZE (1: 200 unmeasured payments then ANALYZE before
# measuring; default 0, a fresh database), QUIET_WAIT / QUIET_IDLE (wait for an idle machine).
# Results: one JSON line per run in OUT_DIR/results.jsonl; server logs beside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/orkestra-bench}
REPS=${2:-1}
BIN=${BIN:-target/release}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-8080}
SIM_PORT=${SIM_PORT:-9090}
CONCURRENCY=${CONCURRENCY:-"1 10 100"}
DBS=${DBS:-"sqlite postgres"}
SIMS=${SIMS:-"inproc external"}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "port $1 did not open" >&2
  return 1
}

# Idle share (%) of all CPUs over one second, from /proc/stat.
idle_pct() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  echo $(( 100 * (b[4] - a[4] + b[5] - a[5]) / (total > 0 ? total : 1) ))
}

# Other work on the machine skews every figure: wait (up to QUIET_WAIT s) for a quiet second.
quiet() {
  local idle
  for _ in $(seq 1 "${QUIET_WAIT:-120}"); do
    idle=$(idle_pct)
    if [ "$idle" -ge "${QUIET_IDLE:-90}" ]; then echo "$idle"; return 0; fi
  done
  echo "$idle"
}

requests_for() {
  case $1 in 1) echo 1000 ;; 10) echo 3000 ;; *) echo 5000 ;; esac
}

for rep in $(seq 1 "$REPS"); do
  for db in $DBS; do
    for sim in $SIMS; do
      dbl=$db
      if [ "$db" = postgres ] && [ "${PG_ANALYZE:-0}" = 1 ]; then dbl=postgres-analyzed; fi
      run="$OUT/$dbl-$sim-rep$rep"
      rm -rf "$run" && mkdir -p "$run"
      if [ "$db" = sqlite ]; then
        dburl="sqlite://$run/orkestra.db"
      else
        name="orkestra_bench_$(date +%s)_$$"
        psql "$PG_URL/postgres" -qc "CREATE DATABASE $name" >/dev/null
        dburl="$PG_URL/$name"
      fi
      if [ "$sim" = inproc ]; then
        NO_COLOR=1 "$BIN/orkestra" serve --sandbox --database-url "$dburl" --data-dir "$run" \
          --listen "127.0.0.1:$PORT" >"$run/stdout.log" 2>"$run/server.log" &
        pids+=($!)
        wait_port "$PORT"
        keys="$run/sandbox-merchant.json"
        # The port opens before the sandbox merchant is written.
        for _ in $(seq 1 100); do [ -s "$keys" ] && break; sleep 0.1; done
        sim_base="http://127.0.0.1:$PORT"
        sim_path=/sim/nestpay/fim/api
      else
        NO_COLOR=1 "$BIN/orkestra" sim --listen "127.0.0.1:$SIM_PORT" 2>"$run/sim.log" &
        pids+=($!)
        "$BIN/orkestra" merchant create --database-url "$dburl" --data-dir "$run" \
          --name "Bench Merchant" >"$run/merchant.json" 2>"$run/create.log"
        NO_COLOR=1 "$BIN/orkestra" serve --database-url "$dburl" --data-dir "$run" \
          --listen "127.0.0.1:$PORT" >"$run/stdout.log" 2>"$run/server.log" &
        pids+=($!)
        wait_port "$PORT"
        wait_port "$SIM_PORT"
        keys="$run/merchant.json"
        "$BIN/loadgen" --mode create-pos --url "http://127.0.0.1:$PORT" --keys "$keys" \
          --sim-url "http://127.0.0.1:$SIM_PORT" >"$run/create-pos.log"
        sim_base="http://127.0.0.1:$SIM_PORT"
        sim_path=/nestpay/fim/api
      fi
      if [ "$db" = postgres ] && [ "${PG_ANALYZE:-0}" = 1 ]; then
        # 200 unmeasured payments, then ANALYZE: what autovacuum does on a live server
        # (it is off on this machine); see "Where the time goes" in BENCHMARKS.md.
        "$BIN/loadgen" --url "http://127.0.0.1:$PORT" --keys "$keys" --concurrency 10 \
          --requests 200 >/dev/null
        psql "$PG_URL/$name" -qc "ANALYZE" >/dev/null
      fi
      for c in $CONCURRENCY; do
        n=$(requests_for "$c")
        idle=$(quiet)
        echo "== rep $rep $dbl $sim c=$c n=$n (idle before: $idle%)"
        "$BIN/loadgen" --mode payment --url "http://127.0.0.1:$PORT" --keys "$keys" \
          --concurrency "$c" --requests "$n" --warmup "$c" --max-seconds 120 --json \
          --label "$dbl/$sim/payment/c$c/rep$rep/idle$idle" | tee -a "$run/loadgen.txt" | tail -n1 >>"$RESULTS"
        "$BIN/loadgen" --mode sim-direct --url "$sim_base" --path "$sim_path" \
          --concurrency "$c" --requests "$n" --warmup "$c" --max-seconds 120 --json \
          --label "$dbl/$sim/sim-direct/c$c/rep$rep/idle$idle" | tee -a "$run/loadgen.txt" | tail -n1 >>"$RESULTS"
        grep -v '^{' "$run/loadgen.txt" | tail -n 8
      done
      stop_all
      if [ "$db" = postgres ]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $name" >/dev/null
      fi
    done
  done
done
echo "results: $RESULTS"
