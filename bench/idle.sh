#!/usr/bin/env bash
# Idle steady state (issue 4c): ACCOUNTS accounts (default 10,000) polled every 5 minutes
# with no new mail, their first checks spread evenly over 5 minutes. Over MINUTES
# (default 6) of `tributary serve`, prints polls done, the service's CPU share, its peak
# RSS, and PostgreSQL transactions per poll. Dovecot reuses its processes. Loopback only.
#
#   bench/idle.sh [ACCOUNTS (default 10000)] [MINUTES (default 6)]
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${1:-10000}
MINUTES=${2:-6}
PG=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
. bench/dovecot.sh
bench_packages psql

cargo build --release --locked -q
cargo bench --bench seed_accounts --no-run -q 2>/dev/null
SEED=$(ls -t target/release/deps/seed_accounts-* | grep -v '\.d$' | head -n 1)
TRIBUTARY=$PWD/target/release/tributary

bench_workdir
names=()
for i in $(seq 0 $((ACCOUNTS - 1))); do names+=("$(printf 'user%04d' "$i")"); done
bench_users "${names[@]}"
bench_dovecot "service_count = 0
  process_min_avail = 2
  client_limit = 1000" "service pop3 {
  service_count = 0
  process_min_avail = 4
  client_limit = 1
}
default_process_limit = 500
default_client_limit = 2000"

export DATABASE_URL=$PG/tributary_bench_idle TRIBUTARY_ALLOW_PRIVATE_HOSTS=true TRIBUTARY_PER_HOST_CONCURRENCY=32
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_idle WITH (FORCE)" >/dev/null
"$TRIBUTARY" migrate >/dev/null
echo "a long bench password" | "$TRIBUTARY" user add --email bench@example.org --password-stdin >/dev/null
echo "adding $ACCOUNTS accounts…" >&2
"$SEED" bench@example.org 127.0.0.1 "$PLAIN_PORT" plain user "$ACCOUNTS" 5 >/dev/null
sql() { psql "$DATABASE_URL" -qAtc "$1"; }
# Steady state from the first minute: first checks spread evenly over one interval.
sql "UPDATE accounts SET next_check_at = now() + random() * interval '5 minutes'"

xacts() { sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
"$TRIBUTARY" serve > "$W/serve.log" 2>&1 &
pid=$!
until grep -q "fetch scheduler started" "$W/serve.log"; do sleep 0.2; done
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
x0=$(xacts)
t0=$(date +%s.%N)
sleep $((MINUTES * 60))
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
x1=$(xacts)
t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
polls=$(sql "SELECT count(*) FROM fetch_runs WHERE finished_at IS NOT NULL")
failed=$(sql "SELECT count(*) FROM fetch_runs WHERE outcome <> 'success'")
lag=$(sql "SELECT count(*) FROM accounts WHERE next_check_at < now() - interval '30 seconds' AND lease_owner IS NULL")
kill -TERM "$pid"; wait "$pid" || true
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_idle WITH (FORCE)" >/dev/null
tick=$(getconf CLK_TCK)
python3 - "$ACCOUNTS" "$t0" "$t1" "$u0" "$s0" "$u1" "$s1" "$tick" "$x0" "$x1" "$polls" "$failed" "$lag" "$rss" <<'PY'
import sys
accounts, t0, t1, u0, s0, u1, s1, tick, x0, x1, polls, failed, lag, rss = sys.argv[1:]
wall = float(t1) - float(t0)
cpu = (int(u1) + int(s1) - int(u0) - int(s0)) / int(tick)
polls = int(polls)
print(f"\n{accounts} accounts every 5 minutes, no new mail; {wall / 60:.1f} minutes of serve")
print(f"polls: {polls} ({polls / wall:.1f}/s), failed: {failed}, due > 30 s ago and unclaimed at the end: {lag}")
print(f"serve CPU: {cpu:.1f} s = {cpu / wall * 100:.1f}% of one core ({cpu / max(polls, 1) * 1000:.2f} ms per poll); peak RSS {int(rss) / 1024:.1f} MB")
print(f"PostgreSQL transactions: {(int(x1) - int(x0)) / max(polls, 1):.1f} per poll")
PY
