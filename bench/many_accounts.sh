#!/usr/bin/env bash
# Many-accounts benchmark (issue 4b): 1,000 Dovecot users with 10 small messages each.
# One full cycle of `tributary serve` polling all of them (50 at a time), against
# fetchmail and mpop polling the same accounts, and against a bare loop with 50
# concurrent connections that only logs in, retrieves and quits (the server's limit).
# Dovecot reuses its login and pop3 processes, so its fork-per-login does not hide every
# client difference. Plaintext and implicit TLS. Loopback only.
#
#   bench/many_accounts.sh [USERS (default 1000)] [RUNS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-1000}
RUNS=${2:-3}
PER_USER=10
CONCURRENCY=50
MODES=${MODES:-plain tls}
TOOLS=${TOOLS:-raw tributary fetchmail mpop}
PG=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
. bench/dovecot.sh
bench_packages mpop fetchmail psql

cargo build --release --locked -q
cargo bench --bench raw_retr --bench seed_accounts --bench store_floor --no-run -q 2>/dev/null
RAW=$(ls -t target/release/deps/raw_retr-* | grep -v '\.d$' | head -n 1)
FLOOR=$(ls -t target/release/deps/store_floor-* | grep -v '\.d$' | head -n 1)
SEED=$(ls -t target/release/deps/seed_accounts-* | grep -v '\.d$' | head -n 1)
TRIBUTARY=$PWD/target/release/tributary

bench_workdir
names=()
for i in $(seq 0 $((USERS - 1))); do names+=("$(printf 'user%04d' "$i")"); done
bench_users "${names[@]}"
python3 - "$W/home" "$PER_USER" "${names[@]}" <<'PY'
import os, sys
home, per_user, users = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for u, user in enumerate(users):
    for m in range(per_user):
        body = "".join(f"Line {l} of message {m} for {user}: nothing much to report today.\r\n" for l in range(20))
        text = (f"From: Sender {m} <s{m}@example.org>\r\nTo: {user}@example.org\r\n"
                f"Subject: note {m} for {user}\r\nMessage-ID: <{u}.{m}@bench>\r\n"
                f"Date: Tue, 3 Nov 2026 10:{m:02d}:00 +0000\r\n\r\n{body}")
        with open(os.path.join(home, user, "Maildir", "new", f"{m}.bench"), "w", newline="") as f:
            f.write(text)
PY
bench_dovecot "service_count = 0
  process_min_avail = 2
  client_limit = 1000" "service pop3 {
  service_count = 0
  process_min_avail = 4
  client_limit = 1
}
default_process_limit = 500
default_client_limit = 2000"

export DATABASE_URL=$PG/tributary_bench_many TRIBUTARY_ALLOW_PRIVATE_HOSTS=true
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY TRIBUTARY_FETCH_CONCURRENCY=$CONCURRENCY TRIBUTARY_PER_HOST_CONCURRENCY=$CONCURRENCY
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_many WITH (FORCE)" >/dev/null
"$TRIBUTARY" migrate >/dev/null
echo "a long bench password" | "$TRIBUTARY" user add --email bench@example.org --password-stdin >/dev/null
echo "adding $((USERS * 2)) accounts (one plain and one TLS per user)…" >&2
BENCH_CA_FILE=$W/ca.crt "$SEED" bench@example.org 127.0.0.1 "$PLAIN_PORT" plain user "$USERS" >/dev/null
BENCH_CA_FILE=$W/ca.crt "$SEED" bench@example.org 127.0.0.1 "$TLS_PORT" tls user "$USERS" >/dev/null
sql() { psql "$DATABASE_URL" -qAtc "$1"; }
xacts() { sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
# What the servers did for one tool's cycle: "postgres_cpu_s dovecot_cpu_s transactions".
servers_before() { S0="$(server_cpu "$PG_PID") $(server_cpu "$(dovecot_pid)") $(xacts)"; }
servers_after() {
    local p0 d0 x0 p1 d1 x1
    read -r p0 d0 x0 <<< "$S0"
    read -r p1 d1 x1 <<< "$(server_cpu "$PG_PID") $(server_cpu "$(dovecot_pid)") $(xacts)"
    # The two psql calls in between are two transactions of their own (a tributary cycle
    # also counts its few calls that wait for the cycle to end).
    echo "$(awk "BEGIN { print $p1 - $p0 }") $(awk "BEGIN { print $d1 - $d0 }") $((x1 - x0 - 2))"
}
PG_PID=$(postgres_pid)

tributary_cycle() { # mode: two full cycles of one running serve; prints a line for each
    # The first cycle after the start ("tributary-cold") also opens the serve's database
    # connections (a PostgreSQL backend each, whose caches and prepared statements start
    # empty); the second ("tributary") runs on them, as every later cycle of a running
    # service does (idle connections are kept for 10 minutes; accounts are polled every 5).
    local mode=$1 sec=$1
    sql "TRUNCATE messages, account_uidls, fetch_runs CASCADE;
         UPDATE accounts SET enabled = (security = '$sec'), next_check_at = now() + interval '1 day',
             consecutive_failures = 0, interval_seconds = 300, last_success_at = NULL"
    "$TRIBUTARY" serve > "$W/serve.log" 2>&1 &
    local pid=$!
    until grep -q "fetch scheduler started" "$W/serve.log"; do sleep 0.05; done
    one_cycle "$pid" "$mode" tributary-cold
    sql "TRUNCATE messages, account_uidls, fetch_runs CASCADE" >/dev/null
    one_cycle "$pid" "$mode" tributary
    kill -TERM "$pid"; wait "$pid" || true
}

one_cycle() { # pid mode label: polls every enabled account once and prints the label's line
    local pid=$1 mode=$2 label=$3
    local cpu_before
    cpu_before=$(awk '{print $14, $15}' "/proc/$pid/stat")
    servers_before
    # PROFILE=1: a system-wide CPU profile of the cycle (perf), one file per mode.
    # STATEMENTS=1 (needs pg_stat_statements in shared_preload_libraries): the cycle's
    # statements with their calls and execution time, in /tmp/LABEL-MODE.statements.
    [ -z "${STATEMENTS:-}" ] || sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
    [ -z "${PROFILE:-}" ] || { perf record -q -e cpu-clock -F 999 -g -a -o "/tmp/$label-$mode.perf" 2>/dev/null & perf=$!; }
    sql "UPDATE accounts SET next_check_at = now() WHERE enabled; SELECT pg_notify('tributary_check_now', '')" >/dev/null
    until [ "$(sql "SELECT count(*) FROM fetch_runs WHERE outcome = 'success'")" -ge "$USERS" ]; do sleep 0.5; done
    local wall rss cpu_after
    wall=$(sql "SELECT extract(epoch FROM max(finished_at) - min(started_at)) FROM fetch_runs")
    cpu_after=$(awk '{print $14, $15}' "/proc/$pid/stat")
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    [ -z "${PROFILE:-}" ] || { kill -INT "$perf"; wait "$perf" || true; }
    # A backend reports its transaction counts at most once a second, and otherwise after
    # 10 s idle: wait for that before reading them.
    sleep 11
    local servers; servers=$(servers_after)
    [ -z "${STATEMENTS:-}" ] || sql "SELECT calls, round(total_exec_time::numeric, 1) AS ms,
            round((total_exec_time / calls)::numeric, 3) AS ms_per_call, rows,
            left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 25" > "/tmp/$label-$mode.statements"
    [ "$(sql "SELECT count(*) FROM messages")" -eq $((USERS * PER_USER)) ] || { echo "tributary stored too little"; exit 1; }
    local tick; tick=$(getconf CLK_TCK)
    read -r u0 s0 <<< "$cpu_before"; read -r u1 s1 <<< "$cpu_after"
    echo "$label $mode $wall $(awk "BEGIN { print ($u1 - $u0) / $tick }") $(awk "BEGIN { print ($s1 - $s0) / $tick }") $rss $servers"
}

run_tool() { # tool mode
    local tool=$1 mode=$2 port=$PLAIN_PORT
    [ "$mode" = tls ] && port=$TLS_PORT
    rm -rf "$W/out" "$W/mpop-uidls" "$W/fetchids"; mkdir -p "$W/out"/{cur,new,tmp}
    case $tool in
      tributary)
        tributary_cycle "$mode" >> "$W/results"; return ;;
      raw)
        CMD=("$RAW" cycle 127.0.0.1 "$port" "$USERS" "$PER_USER" "$CONCURRENCY")
        [ "$mode" = tls ] && CMD+=("$W/ca.crt") ;;
      fetchmail)
        local ssl="sslproto ''"; [ "$mode" = tls ] && ssl="ssl sslcertfile $W/ca.crt sslcertck sslcommonname localhost"
        { echo 'set no syslog'
          for user in "${names[@]}"; do
              printf 'poll 127.0.0.1 port %s protocol pop3 user "%s" password "benchpw" keep fetchall %s\n' "$port" "$user" "$ssl"
          done; } > "$W/fetchmailrc"
        chmod 600 "$W/fetchmailrc"
        CMD=(fetchmail -f "$W/fetchmailrc" -i "$W/fetchids" --silent --bsmtp "$W/out/all.bsmtp") ;;
      mpop)
        local tls=off; [ "$mode" = tls ] && tls=on
        { printf 'defaults\nhost 127.0.0.1\nport %s\ntls %s\ntls_starttls off\ntls_trust_file %s\nauth user\npassword benchpw\nkeep on\nonly_new off\nreceived_header off\nuidls_file %s/mpop-uidls-%%U\ndelivery maildir %s\n' \
              "$port" "$tls" "$W/ca.crt" "$W" "$W/out"
          for user in "${names[@]}"; do printf 'account %s\nuser %s\n' "$user" "$user"; done; } > "$W/mpoprc"
        chmod 600 "$W/mpoprc"
        CMD=(mpop -C "$W/mpoprc" -q -a) ;;
    esac
    servers_before
    /usr/bin/time -f "%e %U %S %M" -o "$W/time" "${CMD[@]}" > "$W/tool.log" 2>&1 || {
        echo "$tool $mode failed:"; tail -5 "$W/tool.log"; return 1; }
    echo "$tool $mode $(cat "$W/time") $(servers_after)" >> "$W/results"
}

# The store's own floor: all USERS x 10 messages parsed beforehand and written with the
# engine's statements by CONCURRENCY writers, 10 per commit (one account's worth), no
# POP3 and no run bookkeeping (bench/store_floor.rs): what storing this mail costs at all.
mkdir -p "$W/floor/new"
for user in "${names[@]}"; do
    for f in "$W/home/$user/Maildir/new/"* "$W/home/$user/Maildir/cur/"*; do
        [ -e "$f" ] && cp "$f" "$W/floor/new/$user-$(basename "$f")"
    done
done
run_floor() {
    sql "TRUNCATE messages, account_uidls, fetch_runs CASCADE; DELETE FROM accounts WHERE label = 'store floor'"
    local count mb parse store
    servers_before
    read -r count mb parse store <<< "$("$FLOOR" bench@example.org "$W/floor" "$CONCURRENCY" "$PER_USER")"
    [ "$count" -eq $((USERS * PER_USER)) ] || { echo "store floor saw $count messages"; exit 1; }
    echo "floor - $store 0 0 0 $(servers_after)" >> "$W/results"
    sql "DELETE FROM accounts WHERE label = 'store floor'"
}

: > "$W/results"
for run in $(seq 1 "$RUNS"); do
    [ -n "${NO_FLOOR:-}" ] || run_floor
    for mode in $MODES; do
        for tool in $TOOLS; do
            run_tool "$tool" "$mode"
        done
    done
done
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_many WITH (FORCE)" >/dev/null

python3 - "$W/results" "$USERS" <<'PY'
import statistics, sys
path, users = sys.argv[1], int(sys.argv[2])
rows = {}
for line in open(path):
    tool, mode, wall, user, system, rss, pg, dovecot, xacts = line.split()
    rows.setdefault((tool, mode), []).append(
        (float(wall), float(user) + float(system), int(float(rss)), float(pg), float(dovecot), int(xacts)))
med = {k: tuple(statistics.median(r[i] for r in v) for i in range(6)) for k, v in rows.items()}
print(f"\n{users} accounts x 10 messages; one full cycle; median of {len(next(iter(rows.values())))} runs")
print("CPU s: the tool's own; PostgreSQL and Dovecot: all their processes during the cycle\n")
print(f"{'tool':<14} {'mode':<6} {'wall s':>8} {'logins/s':>9} {'CPU s':>7} {'PG CPU s':>9} {'Dovecot s':>10} {'PG tx':>7} {'peak RSS MB':>12}")
for (tool, mode), (wall, cpu, rss, pg, dovecot, xacts) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{tool:<14} {mode:<6} {wall:>8.2f} {users / wall:>9.0f} {cpu:>7.2f} {pg:>9.2f} {dovecot:>10.2f} {xacts:>7.0f} {rss / 1024:>12.1f}")
print()
for mode in ("plain", "tls"):
    if ("raw", mode) in med and ("floor", "-") in med:
        print(f"{mode}: storing the mail alone (no POP3, no bookkeeping) takes "
              f"{med[('floor', '-')][0] / med[('raw', mode)][0]:.2f}x the bare loop's wall time")
    for label in ("tributary", "tributary-cold"):
        if (label, mode) not in med:
            continue
        t = med[(label, mode)][0]
        parts = []
        if ("raw", mode) in med:
            parts.append(f"{t / med[('raw', mode)][0]:.2f}x the bare loop's wall time")
        parts += [f"{med[(p, mode)][0] / t:.2f}x faster than {p}" for p in ("fetchmail", "mpop") if (p, mode) in med]
        print(f"{mode}: {label} takes " + ", ".join(parts))
PY
