#!/usr/bin/env bash
# Web pages under load (issue 5): one user with MESSAGES messages (default 1,000,000) over
# 5 accounts, generated straight into PostgreSQL, served by `tributary serve` (release)
# and loaded by `wrk` on loopback with 50 connections: the inbox's first page, a page deep
# in the list (keyset), a search for a common and for a rare word, and a message view
# (random ids). Prints requests/s and p50/p99 latency per page.
#
#   bench/web.sh [MESSAGES (default 1000000)] [SECONDS per page (default 15)]
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${1:-1000000}
SECONDS_EACH=${2:-15}
PG=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
export DEBIAN_FRONTEND=noninteractive
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null; }

cargo build --release --locked -q
TRIBUTARY=$PWD/target/release/tributary
W=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$W"' EXIT
pid=

export DATABASE_URL=$PG/tributary_bench_web
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY
sql() { psql "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
if [ "$(psql "$PG/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = 'tributary_bench_web'")" = 1 ] &&
   [ "$(sql "SELECT count(*) FROM messages" 2>/dev/null || echo 0)" = "$MESSAGES" ]; then
    echo "reusing tributary_bench_web with $MESSAGES messages" >&2
    # Earlier runs' message views changed rows: the same starting state every run.
    sql "VACUUM (ANALYZE) messages"
else
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_web WITH (FORCE)" >/dev/null
    "$TRIBUTARY" migrate >/dev/null
    echo "a long bench password" | "$TRIBUTARY" user add --email bench@example.org --password-stdin >/dev/null
    # Disabled accounts: the scheduler leaves them alone; their sealed passwords are dummies.
    sql "INSERT INTO accounts (id, user_id, label, color, email, host, port, security, username,
             password_ciphertext, password_nonce, password_key_id, enabled)
         SELECT gen_random_uuid(), id, 'Account ' || n, (ARRAY['#3b6fd4','#2e9e5b','#d2452f','#e69a1a','#8a4fd0'])[n],
                'box' || n || '@example.org', 'pop.example.org', 995, 'tls', 'box' || n,
                '\\x00', '\\x000000000000000000000000', 'bench', false
         FROM users, generate_series(1, 5) n"
    echo "generating $MESSAGES messages…" >&2
    start=$(date +%s)
    # Build the full-text index once at the end: faster than maintaining it row by row.
    sql "DROP INDEX messages_search_idx"
    sql "INSERT INTO messages (user_id, account_id, uidl, fetched_at, sort_at, date_header,
             message_id, from_address, from_name, to_addresses, subject, snippet, size_bytes,
             has_attachments, seen, raw, search)
         SELECT u.id, a.ids[1 + g % 5], 'uidl-' || g, t, t, t, '<' || g || '@bench.example.org>',
                'sender' || (g % 5000) || '@example.org', 'Sender ' || (g % 5000),
                'bench@example.org', subject, left(body, 200), octet_length(raw), g % 10 = 0,
                g % 3 <> 0, raw, to_tsvector('simple', subject || ' ' || body)
         FROM users u,
              (SELECT array_agg(id ORDER BY label) AS ids FROM accounts) a,
              generate_series(1, $MESSAGES) g,
              LATERAL (SELECT now() - g * interval '30 seconds' AS t,
                              w[1 + g % 20] || ' ' || w[1 + (g / 20) % 20] || ' #' || g AS subject,
                              'Hello, this is message ' || g || ' about ' || w[1 + (g / 7) % 20]
                                || ' and ' || w[1 + (g / 13) % 20]
                                || CASE WHEN g % 100000 = 7 THEN ' zanzibar' ELSE '' END
                                || '. Best regards.' AS body
                       FROM (SELECT ARRAY['meeting','invoice','report','lunch','project','update',
                                          'travel','family','photos','order','shipping','weekly',
                                          'newsletter','account','security','holiday','budget',
                                          'review','draft','team'] AS w) words) s,
              LATERAL (SELECT convert_to('From: Sender <s@example.org>' || chr(13) || chr(10)
                                || 'Subject: ' || subject || chr(13) || chr(10) || chr(13) || chr(10)
                                || body || chr(13) || chr(10), 'UTF8') AS raw) r"
    sql "CREATE INDEX messages_search_idx ON messages USING gin (search)"
    sql "VACUUM ANALYZE messages"
    echo "generated in $(( $(date +%s) - start )) s" >&2
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TRIBUTARY_LISTEN=127.0.0.1:$port "$TRIBUTARY" serve > "$W/serve.log" 2>&1 &
pid=$!
until grep -q "listening" "$W/serve.log"; do sleep 0.2; done
base=http://127.0.0.1:$port
# Sign in as a browser would: the form's token and its cookie, then the session cookie.
token=$(curl -s -c "$W/jar" "$base/login" | sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p')
curl -s -b "$W/jar" -c "$W/jar" -o /dev/null --data-urlencode "token=$token" \
    --data-urlencode "email=bench@example.org" --data-urlencode "password=a long bench password" \
    --data-urlencode "next=/" "$base/login"
session=$(awk '$6 == "tributary_session" { print $7 }' "$W/jar")
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }

deep=$(sql "SELECT (extract(epoch FROM sort_at) * 1000000)::bigint || '_' || id FROM messages
            ORDER BY sort_at DESC, id DESC OFFSET $((MESSAGES / 2)) LIMIT 1")
read -r min_id max_id < <(sql "SELECT min(id) || ' ' || max(id) FROM messages" )
cat > "$W/message.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/messages/" .. math.random($min_id, $max_id))
end
LUA

printf '%-22s %10s %9s %9s\n' page "requests/s" "p50 ms" "p99 ms"
run() {
    local name=$1 path=$2 script=${3:-}
    local args=(-t2 -c50 -d"${SECONDS_EACH}s" --latency -H "Cookie: tributary_session=$session")
    [ -n "$script" ] && args+=(-s "$script")
    # One warm-up second, then the measured run.
    wrk -t1 -c5 -d1s -H "Cookie: tributary_session=$session" "$base$path" >/dev/null
    wrk "${args[@]}" "$base$path" > "$W/$name.txt"
    if grep -q "Non-2xx" "$W/$name.txt"; then
        echo "$name: some responses were not 2xx:" >&2
        cat "$W/$name.txt" >&2
        exit 1
    fi
    awk -v name="$name" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) } /Requests\/sec/ { rps = $2 }
        END { printf "%-22s %10.0f %9.1f %9.1f\n", name, rps, p50, p99 }' "$W/$name.txt"
}
run inbox-first-page "/"
run inbox-deep-page "/?before=$deep"
run search-common-word "/?q=report"
run search-rare-word "/?q=zanzibar"
run message-view "/messages/$min_id" "$W/message.lua"
