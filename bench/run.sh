#!/usr/bin/env bash
# Load benchmark of the main paths, measured against the perfbase reference in the same run.
#   bench/run.sh              10,000 participants, 1,000,000 audit rows
#   SCALE=10 bench/run.sh     ten times that
# Knobs: DURATION=15 WARMUP=3 CONNS=64 RESEED=0 BENCH_PORT=18090 PERFBASE_DIR=../shared/perfbase
# Prints a run-by-run table and one final line with every figure and its ratio to the reference.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PERF=${PERFBASE_DIR:-$ROOT/../shared/perfbase}
SCALE=${SCALE:-1}
N=$((10000 * SCALE))
AUDIT=$((1000000 * SCALE))
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-64}
PORT=${BENCH_PORT:-18090}
PGPORT=${PERFBASE_PGPORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
OUT=${BENCH_OUT:-/tmp/handover-bench}
DB=handover_bench_$SCALE
URL=postgres://postgres@127.0.0.1:$PGPORT/$DB
API=http://127.0.0.1:$PORT
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
mkdir -p "$OUT"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -x "$PERF/pg-up.sh" ] || { echo "bench: perfbase not found at $PERF (set PERFBASE_DIR)" >&2; exit 1; }

PID=
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench: PostgreSQL (perfbase cluster, port $PGPORT)"
"$PERF/pg-up.sh" >/dev/null

echo "bench: building the release binary"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -q -p handover-server
BIN=$CARGO_TARGET_DIR/release/handover

export DATABASE_URL=$URL LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
  HANDOVER_DATA_DIR=$OUT/data HANDOVER_MAIL_DIR=$OUT/mail HANDOVER_ACCESS_TOKEN_TTL_SECS=3600 \
  HANDOVER_LOGIN_MAX_FAILURES_PER_ADDRESS=100000 HANDOVER_DB_MAX_CONNECTIONS=${POOL_SIZE:-16}

# Seeded means the bench rows are there, not only the database: an interrupted seeding leaves the
# demo data behind.
seeded=$("${PSQL[@]}" -d "$DB" -tAc "SELECT 1 FROM participants WHERE given_name = 'Bench$N'" 2>/dev/null || true)
if [ "${RESEED:-0}" = 1 ] || [ "$seeded" != 1 ]; then
  echo "bench: seeding $N participants and $AUDIT audit rows into $DB"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  t0=$(date +%s)
  "$BIN" seed-demo >/dev/null
  "${PSQL[@]}" -1 -d "$DB" -v n="$N" -v audit="$AUDIT" -f bench/seed.sql -tA
  echo "bench: seeded in $(( $(date +%s) - t0 )) s"
else
  echo "bench: reusing $DB (RESEED=1 to rebuild)"
fi

start_service() {
  local t0; t0=$(date +%s%N)
  "$BIN" serve >"$OUT/service.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    curl -sf -o /dev/null "$API/readyz" && break
    sleep 0.01
  done
  curl -sf -o /dev/null "$API/readyz" || { cat "$OUT/service.log" >&2; exit 1; }
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
# Start once (migrations are no-ops on an existing database), stop, and time the second start.
start_service; kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
start_service
echo "bench: ready in ${READY_MS} ms on the existing database"

login() { curl -sf "$API/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$1\",\"password\":\"demo-passord-2026\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'; }

echo "bench: logging in 300 municipality users and the centre staff"
declare -A TOKEN
while read -r email; do TOKEN[$email]=$(login "$email"); done < <("${PSQL[@]}" -d "$DB" -tAc \
  "SELECT email FROM users WHERE email LIKE 'bench.kommune-%' ORDER BY email")
KRS=$(login ansatt.mottak-kristiansand@demo.no)
STJ=$(login ansatt.mottak-steinkjer@demo.no)
: >"$OUT/file.txt"; : >"$OUT/inbox.txt"; : >"$OUT/write.txt"
while read -r hid email; do echo "$hid ${TOKEN[$email]}" >>"$OUT/file.txt"; done < <("${PSQL[@]}" -d "$DB" -tA -F' ' -c \
  "SELECT h.id, u.email FROM handovers h JOIN users u ON u.organisation_id = h.municipality_id
   WHERE u.email LIKE 'bench.kommune-%' ORDER BY random() LIMIT 20000")
for email in "${!TOKEN[@]}"; do echo "${TOKEN[$email]}" >>"$OUT/inbox.txt"; done
# Elements with their current version, so every PATCH's If-Match is right (rebuilt after the
# warm-up, which changes versions).
write_targets() {
  while read -r pid eid version centre; do
    if [ "$centre" = krs ]; then echo "$pid $eid $version $KRS"; else echo "$pid $eid $version $STJ"; fi
  done < <("${PSQL[@]}" -d "$DB" -tA -F' ' -c \
    "SELECT e.participant_id, e.id, e.version, CASE WHEN o.name LIKE '%Kristiansand' THEN 'krs' ELSE 'stj' END
     FROM programme_elements e JOIN participants p ON p.id = e.participant_id
     JOIN organisations o ON o.id = p.reception_centre_id
     WHERE p.given_name LIKE 'Bench%' ORDER BY e.id LIMIT 20000") >"$OUT/write.txt"
}
write_targets

# Web sessions: the sign-in form, as a browser posts it; the session cookies as one header value.
web_login() {
  local jar; jar=$(mktemp)
  curl -s -c "$jar" -o /dev/null -H "Origin: $API" --data-urlencode "email=$1" \
    --data-urlencode "password=demo-passord-2026" --data-urlencode "next=" "$API/sign-in"
  sed -E 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }'
  rm -f "$jar"
}
echo "bench: web sessions (centre staff, 20 municipality users)"
KRS_WEB=$(web_login ansatt.mottak-kristiansand@demo.no)
STJ_WEB=$(web_login ansatt.mottak-steinkjer@demo.no)
"${PSQL[@]}" -d "$DB" -tA -F' ' -c \
  "SELECT p.id, CASE WHEN o.name LIKE '%Kristiansand' THEN 'krs' ELSE 'stj' END FROM participants p
   JOIN organisations o ON o.id = p.reception_centre_id WHERE p.given_name LIKE 'Bench%'
   ORDER BY random() LIMIT 5000" |
  while read -r pid centre; do
    if [ "$centre" = krs ]; then echo "/participants/$pid $KRS_WEB"; else echo "/participants/$pid $STJ_WEB"; fi
  done >"$OUT/web-record.txt"
: >"$OUT/web-inbox.txt"
for email in $("${PSQL[@]}" -d "$DB" -tAc "SELECT email FROM users WHERE email LIKE 'bench.kommune-%' ORDER BY email LIMIT 20"); do
  echo "/handovers $(web_login "$email")" >>"$OUT/web-inbox.txt"
done

for s in file inbox write login web; do cat "bench/$s.lua" bench/result.lua >"$OUT/$s.lua"; done

run_wrk() { # $1=name $2=script $3=seconds $4=conns [args...]
  local name=$1 script=$2 secs=$3 conns=$4; shift 4
  wrk -t1 -c"$conns" -d"${secs}s" -s "$OUT/$script.lua" "$API" -- "$@" >"$OUT/wrk-$name.out" 2>&1
  grep '^WRK_RESULT' "$OUT/wrk-$name.out" || { cat "$OUT/wrk-$name.out" >&2; return 1; }
}
field() { sed -E "s/.*(^| )$1=([^ ]+).*/\2/"; }

echo "bench: reference (perfbase run-all.sh, RUNS=1, DURATION=$DURATION)"
REF=$(env -u CARGO_TARGET_DIR RUNS=1 DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS KEEP_PG=1 SKIP_SEED=1 "$PERF/run-all.sh" 2>&1 | tee "$OUT/reference.out" | tail -1)
REF_RPS=$(echo "$REF" | field minapi_jwt_rps)
REF_P50=$(echo "$REF" | field minapi_jwt_p50_ms)
REF_P99=$(echo "$REF" | field minapi_jwt_p99_ms)

echo "bench: warm-up"
run_wrk warm-file file "$WARMUP" "$CONNS" "$OUT/file.txt" >/dev/null
run_wrk warm-inbox inbox "$WARMUP" "$CONNS" "$OUT/inbox.txt" >/dev/null
run_wrk warm-write write "$WARMUP" "$CONNS" "$OUT/write.txt" >/dev/null
run_wrk warm-web-record web "$WARMUP" "$CONNS" "$OUT/web-record.txt" >/dev/null
run_wrk warm-web-inbox web "$WARMUP" "$CONNS" "$OUT/web-inbox.txt" >/dev/null

# Every successful answer of a load must have left its audit row: the rows of `action` written
# during the load lie between the successes wrk counted and those plus the requests still in
# flight when it stopped (at most one per connection). A faster path that loses rows fails here.
audits() { "${PSQL[@]}" -d "$DB" -tAc "SELECT count(*) FROM audit_log WHERE action = '$1' AND outcome = 'success'"; }
check_audit() { # $1=load $2=action $3=rows before $4=WRK_RESULT line $5=connections
  local after ok; after=$(audits "$2"); ok=$(echo "$4" | field ok)
  local rows=$((after - $3))
  if [ "$rows" -lt "$ok" ] || [ "$rows" -gt $((ok + $5)) ]; then
    echo "bench: FAILED: $1 answered $ok successes but wrote $rows '$2' audit rows" >&2; exit 1
  fi
  echo "bench: $1: $ok successes, $rows '$2' audit rows" >&2
}

echo "bench: loads, ${DURATION}s each at $CONNS connections"
write_targets
A0=$(audits handover.file_read)
FILE=$(run_wrk file file "$DURATION" "$CONNS" "$OUT/file.txt")
check_audit file handover.file_read "$A0" "$FILE" "$CONNS"
A0=$(audits handover.list)
INBOX=$(run_wrk inbox inbox "$DURATION" "$CONNS" "$OUT/inbox.txt")
check_audit inbox handover.list "$A0" "$INBOX" "$CONNS"
A0=$(audits programme_element.update)
WRITE=$(run_wrk write write "$DURATION" "$CONNS" "$OUT/write.txt")
check_audit write programme_element.update "$A0" "$WRITE" "$CONNS"
WEB_RECORD=$(run_wrk web-record web "$DURATION" "$CONNS" "$OUT/web-record.txt")
WEB_INBOX=$(run_wrk web-inbox web "$DURATION" "$CONNS" "$OUT/web-inbox.txt")
run_wrk logins login "$DURATION" 32 ansatt.mottak-kristiansand@demo.no demo-passord-2026 >"$OUT/burst-login.txt" &
LPID=$!
A0=$(audits handover.file_read)
BURST=$(run_wrk burst-file file "$DURATION" "$CONNS" "$OUT/file.txt")
check_audit burst-file handover.file_read "$A0" "$BURST" "$CONNS"
wait "$LPID"
LOGINS=$(cat "$OUT/burst-login.txt")
RSS_KB=$(awk '/VmHWM/{print $2}' "/proc/$PID/status")

# The retention sweep's statement (crates/handover-db/src/retention.rs), timed by PostgreSQL on
# this data and rolled back.
RET_MS=$("${PSQL[@]}" -d "$DB" -tA <<'SQL' | awk '/Execution Time/{print $3}'
BEGIN;
EXPLAIN (ANALYZE, TIMING OFF)
WITH due AS (
    SELECT p.id FROM participants p
    WHERE p.status IN ('settled', 'left_programme')
      AND NOT EXISTS (
          SELECT 1 FROM handovers h WHERE h.participant_id = p.id
            AND h.state NOT IN ('completed', 'cancelled', 'declined'))
      AND COALESCE(
          (SELECT max(h.closed_at) FROM handovers h WHERE h.participant_id = p.id),
          CASE WHEN NOT EXISTS (SELECT 1 FROM handovers h WHERE h.participant_id = p.id)
               THEN p.updated_at END)
          < now() - make_interval(days => 180)
    FOR UPDATE OF p SKIP LOCKED
)
DELETE FROM participants WHERE id IN (SELECT id FROM due) RETURNING id;
ROLLBACK;
SQL
)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "nan"; else printf "%.3f", a/b }'; }
printf '%-12s %8s %8s %8s %8s\n' load rps p50_ms p99_ms non2xx
for pair in "reference:$REF_RPS:$REF_P50:$REF_P99:0" \
  "file:$(echo "$FILE" | field rps):$(echo "$FILE" | field p50_ms):$(echo "$FILE" | field p99_ms):$(echo "$FILE" | field non2xx)" \
  "inbox:$(echo "$INBOX" | field rps):$(echo "$INBOX" | field p50_ms):$(echo "$INBOX" | field p99_ms):$(echo "$INBOX" | field non2xx)" \
  "write:$(echo "$WRITE" | field rps):$(echo "$WRITE" | field p50_ms):$(echo "$WRITE" | field p99_ms):$(echo "$WRITE" | field non2xx)" \
  "burst-file:$(echo "$BURST" | field rps):$(echo "$BURST" | field p50_ms):$(echo "$BURST" | field p99_ms):$(echo "$BURST" | field non2xx)" \
  "web-record:$(echo "$WEB_RECORD" | field rps):$(echo "$WEB_RECORD" | field p50_ms):$(echo "$WEB_RECORD" | field p99_ms):$(echo "$WEB_RECORD" | field non2xx)" \
  "web-inbox:$(echo "$WEB_INBOX" | field rps):$(echo "$WEB_INBOX" | field p50_ms):$(echo "$WEB_INBOX" | field p99_ms):$(echo "$WEB_INBOX" | field non2xx)" \
  "burst-login:$(echo "$LOGINS" | field rps):$(echo "$LOGINS" | field p50_ms):$(echo "$LOGINS" | field p99_ms):$(echo "$LOGINS" | field non2xx)"; do
  IFS=: read -r a b c d e <<<"$pair"; printf '%-12s %8s %8s %8s %8s\n' "$a" "$b" "$c" "$d" "$e"
done

F_RPS=$(echo "$FILE" | field rps); F_P50=$(echo "$FILE" | field p50_ms); F_P99=$(echo "$FILE" | field p99_ms)
I_RPS=$(echo "$INBOX" | field rps); I_P99=$(echo "$INBOX" | field p99_ms)
W_RPS=$(echo "$WRITE" | field ok_rps); W_P99=$(echo "$WRITE" | field p99_ms); W_NON=$(echo "$WRITE" | field non2xx)
B_RPS=$(echo "$BURST" | field rps); B_P99=$(echo "$BURST" | field p99_ms)
L_RPS=$(echo "$LOGINS" | field rps)
echo "bench: scale=$SCALE participants=$N audit_rows=$AUDIT ref_jwt_rps=$REF_RPS ref_p50_ms=$REF_P50 ref_p99_ms=$REF_P99" \
  "file_rps=$F_RPS file_ratio=$(ratio "$F_RPS" "$REF_RPS") file_p50_ms=$F_P50 file_p99_ms=$F_P99 file_p99_ratio=$(ratio "$F_P99" "$REF_P99")" \
  "inbox_rps=$I_RPS inbox_ratio=$(ratio "$I_RPS" "$REF_RPS") inbox_p99_ms=$I_P99" \
  "write_rps=$W_RPS write_ratio=$(ratio "$W_RPS" "$REF_RPS") write_p99_ms=$W_P99 write_non2xx=$W_NON" \
  "burst_file_rps=$B_RPS burst_file_p99_ms=$B_P99 burst_p99_over_file_p99=$(ratio "$B_P99" "$F_P99") burst_logins_rps=$L_RPS" \
  "web_record_rps=$(echo "$WEB_RECORD" | field rps) web_record_ratio=$(ratio "$(echo "$WEB_RECORD" | field rps)" "$REF_RPS")" \
  "web_inbox_rps=$(echo "$WEB_INBOX" | field rps) web_inbox_ratio=$(ratio "$(echo "$WEB_INBOX" | field rps)" "$REF_RPS")" \
  "peak_rss_mb=$((RSS_KB / 1024)) ready_ms=$READY_MS retention_sweep_ms=$RET_MS"
