#!/usr/bin/env bash
# One profiled payment run against a sandbox server (in-process simulator), for the
# "Where the time goes" section of BENCHMARKS.md. Loopback only; bounded.
#
#   bash crates/loadgen/profile.sh VARIANT CONCURRENCY REQUESTS [OUT_DIR]
#
# VARIANT:
#   sqlite            SQLite file on the normal disk (synchronous=FULL, as shipped)
#   sqlite-tmpfs      the same file on /dev/shm: fsync costs nothing (commit cost removed)
#   postgres          a fresh PostgreSQL database, server defaults
#   postgres-nosync   the same with `ALTER DATABASE … SET synchronous_commit = off`
# Env: SIMDIRECT=1 then runs sim-direct against the in-process simulator at the same
#      concurrency and rate; TIMING=1 runs the server with per-request timing logs and summarises them with
#      `loadgen --mode log-stats` (the bank call, the payment's and the outcome's writes,
#      the rest, and SQLite's group commits: writes per commit, run and COMMIT times); PERF=1 records `perf record -a -g` during the run;
#      BIN (target/release), PG_URL, PORT (8080), RATE (open-loop rate for loadgen),
#      PG_ANALYZE (1: ANALYZE the PostgreSQL database after the warm-up; 0: leave it fresh),
#      BANK_DELAY_MS (the simulator answers every measured sale after this many ms).
# Prints the loadgen summary and the CPU time each party used during the measured run.
set -euo pipefail
cd "$(dirname "$0")/../.."
VARIANT=$1
C=$2
N=$3
OUT=${4:-/tmp/orkestra-profile}/$VARIANT-c$C${RATE:+-r$RATE}${TIMING:+-timing}${BANK_DELAY_MS:+-bank$BANK_DELAY_MS}
BIN=${BIN:-target/release}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-8080}
rm -rf "$OUT" && mkdir -p "$OUT"

pids=()
dbname=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$dbname" ]; then psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $dbname" >/dev/null || true; fi
  rm -rf "/dev/shm/orkestra-profile-$$"
}
trap cleanup EXIT

case $VARIANT in
  sqlite) data=$OUT/data ;;
  sqlite-tmpfs) data=/dev/shm/orkestra-profile-$$ ;;
  postgres | postgres-nosync) data=$OUT/data ;;
  *) echo "unknown variant $VARIANT" >&2; exit 2 ;;
esac
mkdir -p "$data"
case $VARIANT in
  sqlite*) dburl="sqlite://$data/orkestra.db" ;;
  *)
    dbname="orkestra_profile_$(date +%s)_$$"
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $dbname" >/dev/null
    if [ "$VARIANT" = postgres-nosync ]; then
      psql "$PG_URL/postgres" -qc "ALTER DATABASE $dbname SET synchronous_commit = off" >/dev/null
    fi
    dburl="$PG_URL/$dbname"
    ;;
esac

log_filter=${RUST_LOG:-info,sqlx=warn}
if [ -n "${TIMING:-}" ]; then log_filter="info,sqlx=warn,api::envelope=debug,connectors=debug,engine::payments=debug,store::group_commit=debug"; fi
NO_COLOR=1 RUST_LOG=$log_filter "$BIN/orkestra" serve --sandbox --database-url "$dburl" \
  --data-dir "$data" --listen "127.0.0.1:$PORT" >"$OUT/stdout.log" 2>"$OUT/server.log" &
server=$!
pids+=($server)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
keys=$data/sandbox-merchant.json
# The port opens before the sandbox merchant is written.
for _ in $(seq 1 100); do [ -s "$keys" ] && break; sleep 0.1; done
# Warm-up (connections, caches), not measured.
"$BIN/loadgen" --url "http://127.0.0.1:$PORT" --keys "$keys" --concurrency "$C" \
  --requests $((C > 200 ? C : 200)) >/dev/null
# PostgreSQL: plans cached while the tables were empty pick a poor index for
# `payments WHERE id = $1 AND merchant_id = $2` (BENCHMARKS.md, "Where the time goes");
# ANALYZE (what autovacuum would do, and it is off on this machine) replaces them.
if [ -n "$dbname" ] && [ "${PG_ANALYZE:-1}" = 1 ]; then
  psql "$PG_URL/$dbname" -qc "ANALYZE" >/dev/null
fi
# A bank that answers like a real one (hundreds of ms): the simulator holds every answer to
# the sandbox İşbank store (the POS the sandbox routes to first) for BANK_DELAY_MS.
if [ -n "${BANK_DELAY_MS:-}" ]; then
  curl -sf -X POST "http://127.0.0.1:$PORT/sim/nestpay/_sim/faults" -H 'content-type: application/json' \
    -d "{\"clientId\":\"100200127\",\"mode\":\"delay\",\"delayMs\":$BANK_DELAY_MS,\"count\":4000000000}" >/dev/null
fi

# CPU ticks (user+system) of a process and, for PostgreSQL, of every postgres process.
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local sum=0 p
  for p in $(pgrep -x postgres || true); do sum=$((sum + $(ticks_of "$p"))); done
  echo $sum
}
total_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
idle_ticks() { awk '/^cpu /{print $5+$6}' /proc/stat; }

loadgen=("$BIN/loadgen" --url "http://127.0.0.1:$PORT" --keys "$keys" --concurrency "$C"
  --requests "$N" --max-seconds 120 --json --label "$VARIANT/c$C")
if [ -n "${RATE:-}" ]; then loadgen+=(--rate "$RATE"); fi
hz=$(getconf CLK_TCK)

# The disk's floor right now (it varies by 10x over minutes on a shared VM): two durable
# commits in a row with no Orkestra code, the least a payment's own time can be
# (commit-floor.py; SQLite beside the database, and PostgreSQL for its variants).
commit_floor() {
  local pg=()
  case $VARIANT in postgres*) pg=(--postgres "$PG_URL/postgres") ;; esac
  python3 crates/loadgen/commit-floor.py --dir "$OUT" --rounds 500 "${pg[@]}" | grep 'in a row' | sed 's/^/  /'
}

# Other work on the machine skews every figure: wait (up to 3 min) for a quiet second
# before each attempt, and measure again (up to ATTEMPTS times) when other processes took
# more than OTHER_MAX % of the CPU during the run.
for attempt in $(seq 1 "${ATTEMPTS:-3}"); do
  for _ in $(seq 1 180); do
    a_t=$(total_ticks); a_i=$(idle_ticks); sleep 1; b_t=$(total_ticks); b_i=$(idle_ticks)
    [ $(( 100 * (b_i - a_i) / (b_t - a_t + 1) )) -ge "${QUIET_IDLE:-90}" ] && break
  done
  floor_before=$(commit_floor)
  log_offset=$(stat -c %s "$OUT/server.log")
  s0=$(ticks_of "$server"); p0=$(pg_ticks); t0=$(total_ticks); i0=$(idle_ticks)
  if [ -n "${PERF:-}" ]; then
    /usr/bin/time -f "%U %S" -o "$OUT/loadgen-time.txt" \
      perf record -a -g -F 999 -o "$OUT/perf.data" -- "${loadgen[@]}" >"$OUT/loadgen.txt" 2>"$OUT/perf-record.log"
  else
    /usr/bin/time -f "%U %S" -o "$OUT/loadgen-time.txt" "${loadgen[@]}" >"$OUT/loadgen.txt"
  fi
  s1=$(ticks_of "$server"); p1=$(pg_ticks); t1=$(total_ticks); i1=$(idle_ticks)
  floor_after=$(commit_floor)
  lg=$(awk '{printf "%d", ($1 + $2) * 100}' "$OUT/loadgen-time.txt")
  avail=$(( (t1 - t0) * 100 / hz ))
  other=$(( (t1 - t0 - i1 + i0 - s1 + s0 - p1 + p0) * 100 / hz - lg ))
  cat "$OUT/loadgen.txt"
  {
    echo "cpu during the run, centiseconds (both cores: $avail available):"
    echo "  orkestra server  $(( (s1 - s0) * 100 / hz ))"
    echo "  postgres (all)   $(( (p1 - p0) * 100 / hz ))"
    echo "  loadgen          $lg (with perf: loadgen + perf)"
    echo "  idle+iowait      $(( (i1 - i0) * 100 / hz ))"
    echo "  everything else  $other (other processes, kernel threads)"
    echo "disk floor, two commits in a row, before the run:"; echo "$floor_before"
    echo "and after it:"; echo "$floor_after"
  } | tee "$OUT/cpu.txt"
  if [ $(( 100 * other / (avail + 1) )) -le "${OTHER_MAX:-10}" ]; then break; fi
  echo "attempt $attempt: the machine was busy with other work; measuring again" | tee -a "$OUT/cpu.txt"
done
tail -c +$((log_offset + 1)) "$OUT/server.log" >"$OUT/measured.log"
if [ -n "${SIMDIRECT:-}" ]; then
  # The in-process simulator alone, under the same concurrency and rate.
  sim=("$BIN/loadgen" --mode sim-direct --url "http://127.0.0.1:$PORT" --path /sim/nestpay/fim/api
    --concurrency "$C" --requests "$N" --warmup "$C" --max-seconds 120 --json --label "$VARIANT/c$C/sim-direct")
  if [ -n "${RATE:-}" ]; then sim+=(--rate "$RATE"); fi
  "${sim[@]}" | tee "$OUT/sim-direct.txt"
fi
if [ -n "${TIMING:-}" ]; then
  "$BIN/loadgen" --mode log-stats --log "$OUT/measured.log" | tee "$OUT/log-stats.txt"
fi
if [ -n "${PERF:-}" ]; then
  python3 crates/loadgen/perf-split.py "$OUT/perf.data" "$server" | tee "$OUT/perf-split.txt"
  # Threads of both tokio programs are named tokio-rt-worker: select the server by pid.
  perf report -i "$OUT/perf.data" --no-children --pid "$server" --sort sym --stdio -g none \
    2>/dev/null | grep -E '^ +[0-9.]+%' | head -60 >"$OUT/perf-server-syms.txt"
  perf report -i "$OUT/perf.data" --children --pid "$server" --sort sym --stdio -g none \
    2>/dev/null | grep -E '^ +[0-9.]+%' | head -80 >"$OUT/perf-server-children.txt"
fi
