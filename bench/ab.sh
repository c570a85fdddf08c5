#!/usr/bin/env bash
# Compares two builds of the service on the same data, alternating them so that the noise of a
# shared machine falls on both alike. Needs a completed bench/run.sh (its database, tokens and
# scripts in $BENCH_OUT).
#   bench/ab.sh OLD_BINARY NEW_BINARY
# Knobs: ROUNDS=2 DURATION=8 CONNS=64 LOADS="file inbox write" SCALE=1, OLD_DB and NEW_DB (each
# build on its own copy of the database, for a change with a migration)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OLD=${1:?old binary}
NEW=${2:?new binary}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
CONNS=${CONNS:-64}
LOADS=${LOADS:-file inbox write}
SCALE=${SCALE:-1}
PORT=${BENCH_PORT:-18090}
PGPORT=${PERFBASE_PGPORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
OUT=${BENCH_OUT:-/tmp/handover-bench}
DB=handover_bench_$SCALE
OLD_DB=${OLD_DB:-$DB}
NEW_DB=${NEW_DB:-$DB}
API=http://127.0.0.1:$PORT
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
[ -s "$OUT/file.txt" ] || { echo "ab: run bench/run.sh first" >&2; exit 1; }

export LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
  HANDOVER_DATA_DIR=$OUT/data HANDOVER_MAIL_DIR=$OUT/mail HANDOVER_ACCESS_TOKEN_TTL_SECS=3600 \
  HANDOVER_LOGIN_MAX_FAILURES_PER_ADDRESS=100000 HANDOVER_DB_MAX_CONNECTIONS=${POOL_SIZE:-16}

PID=
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; }
trap cleanup EXIT

# The write load needs each element's current version; the tokens stay those bench/run.sh wrote.
write_targets() {
  "${PSQL[@]}" -d "$db" -tA -F' ' -c "SELECT id, version FROM programme_elements" |
    awk 'NR == FNR { v[$1] = $2; next } ($2 in v) { print $1, $2, v[$2], $4 }' - "$OUT/write.txt" >"$OUT/write-ab.txt"
}

declare -A SUM
for round in $(seq "$ROUNDS"); do
  for which in old new; do
    bin=$OLD db=$OLD_DB
    [ "$which" = new ] && bin=$NEW db=$NEW_DB
    export DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/$db
    "$bin" serve >"$OUT/ab-$which.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do curl -sf -o /dev/null "$API/readyz" && break; sleep 0.01; done
    for load in $LOADS; do
      ids=$OUT/$load.txt
      if [ "$load" = write ]; then write_targets; ids=$OUT/write-ab.txt; fi
      wrk -t1 -c"$CONNS" -d2s -s "$OUT/$load.lua" "$API" -- "$ids" >/dev/null 2>&1
      [ "$load" = write ] && write_targets
      line=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$OUT/$load.lua" "$API" -- "$ids" 2>&1 | grep '^WRK_RESULT')
      rps=$(echo "$line" | sed -E 's/.*(^| )rps=([^ ]+).*/\2/')
      p99=$(echo "$line" | sed -E 's/.*p99_ms=([^ ]+).*/\1/')
      echo "ab: round $round $which $load rps=$rps p99_ms=$p99"
      SUM[$which.$load]=$(awk -v a="${SUM[$which.$load]:-0}" -v b="$rps" 'BEGIN{print a + b}')
    done
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
  done
done
for load in $LOADS; do
  awk -v l="$load" -v o="${SUM[old.$load]}" -v n="${SUM[new.$load]}" -v r="$ROUNDS" \
    'BEGIN{printf "ab: %-6s old %7.0f rps  new %7.0f rps  new/old %.2f\n", l, o/r, n/r, n/o}'
done
