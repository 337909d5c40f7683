#!/usr/bin/env bash
# End-to-end ingest benchmark (issue 4a): Dovecot → `tributary fetch` → PostgreSQL (parsed,
# indexed, durably committed) against mpop and fetchmail delivering the same mailbox to a
# Maildir / file on the same disk as PostgreSQL's data, and against PostgreSQL alone
# ingesting the same bytes with COPY (the store's limit). Plaintext and implicit TLS.
# The mailbox itself is served from tmpfs. Loopback only.
#
#   bench/ingest.sh [MESSAGES (default 5000)] [RUNS (default 3)]
#
# Uses the PostgreSQL at $BENCH_DATABASE_SERVER (default postgres://postgres@127.0.0.1:5432)
# and (re)creates the database tributary_bench there.
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${1:-5000}
RUNS=${2:-3}
MODES=${MODES:-plain tls}
TOOLS=${TOOLS:-tributary mpop fetchmail}
PG=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
. bench/dovecot.sh
bench_packages mpop fetchmail psql

cargo build --release --locked -q
cargo bench --bench store_floor --no-run -q 2>/dev/null
TRIBUTARY=$PWD/target/release/tributary
FLOOR=$(ls -t target/release/deps/store_floor-* | grep -v '\.d$' | head -n 1)

bench_workdir
bench_users bench
python3 bench/genmail.py "$W/home/bench/Maildir" "$MESSAGES"
bench_dovecot
BYTES=$(find "$W/home/bench/Maildir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

# The peers write next to PostgreSQL's data, so both pay for the same disk.
DATA_DIR=$(psql "$PG/postgres" -Atc 'show data_directory')
DISK=$(mktemp -d /var/tmp/tributary-ingest.XXXXXX)
trap 'dovecot -c "$W/dovecot.conf" stop 2>/dev/null || true; rm -rf "$W" "$DISK"' EXIT
if [ "$(stat -c %d "$DISK")" != "$(stat -c %d "$DATA_DIR" 2>/dev/null || stat -c %d /var/lib/postgresql)" ]; then
    echo "note: $DISK is not on the filesystem of $DATA_DIR; peers and PostgreSQL use different disks" >&2
fi

export DATABASE_URL=$PG/tributary_bench TRIBUTARY_ALLOW_PRIVATE_HOSTS=true
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY

# The same bytes as one COPY BINARY stream (one bytea column per row).
python3 - "$W/home/bench/Maildir/new" "$W/copy.bin" <<'PY'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
with open(dst, "wb") as out:
    out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
    for name in sorted(os.listdir(src)):
        data = open(os.path.join(src, name), "rb").read()
        out.write(struct.pack("!hi", 1, len(data)) + data)
    out.write(struct.pack("!h", -1))
PY

fresh_database() {
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench WITH (FORCE)" >/dev/null
    "$TRIBUTARY" migrate >/dev/null
    echo "a long bench password" | "$TRIBUTARY" user add --email bench@example.org --password-stdin >/dev/null
}

run_tool() { # tool mode
    local tool=$1 mode=$2 port=$PLAIN_PORT
    [ "$mode" = tls ] && port=$TLS_PORT
    rm -rf "$DISK/out"; mkdir -p "$DISK/out"/{cur,new,tmp}
    case $tool in
      tributary)
        fresh_database
        local id
        id=$(echo benchpw | "$TRIBUTARY" account add --user bench@example.org --host 127.0.0.1 --port "$port" \
            --security "$mode" --ca "$W/ca.crt" --username bench --password-stdin)
        CMD=("$TRIBUTARY" fetch --account "$id") ;;
      mpop|fetchmail)
        peer_command "$tool" "$mode" "$DISK/out" bench ;;
      copy)
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS tributary_bench WITH (FORCE)" -c "CREATE DATABASE tributary_bench" >/dev/null
        psql "$DATABASE_URL" -qc "CREATE TABLE raw_copy (raw bytea NOT NULL)" \
            -c "ALTER TABLE raw_copy ALTER COLUMN raw SET STORAGE EXTERNAL" >/dev/null
        CMD=(psql "$DATABASE_URL" -qc "\\copy raw_copy FROM '$W/copy.bin' WITH (FORMAT binary)") ;;
    esac
    sync
    /usr/bin/time -f "%e %U %S %M" -o "$W/time" "${CMD[@]}" > "$W/tool.log" 2>&1 || {
        echo "$tool $mode failed:"; cat "$W/tool.log"; return 1; }
    if [ "$tool" = tributary ] && ! grep -q "outcome success: $MESSAGES message(s)" "$W/tool.log"; then
        echo "tributary $mode did not store every message:"; cat "$W/tool.log"; return 1
    fi
    echo "$tool $mode $(cat "$W/time")" >> "$W/results"
}

# The store's own floor: the same messages parsed beforehand and written through the
# engine's statements and group commits, no POP3 (bench/store_floor.rs), with and
# without the search vector. Its "wall" is the writing alone.
run_floor() { # search|nosearch
    fresh_database
    local count mb parse store
    read -r count mb parse store <<< "$("$FLOOR" bench@example.org "$W/home/bench/Maildir" 3 32 "$1")"
    [ "$count" -eq "$MESSAGES" ] || { echo "store floor saw $count messages"; return 1; }
    echo "floor-$1 - $store 0 0 0" >> "$W/results"
}

: > "$W/results"
for run in $(seq 1 "$RUNS"); do
    for mode in $MODES; do
        for tool in $TOOLS; do
            run_tool "$tool" "$mode"
        done
    done
    run_tool copy -
    [ -n "${NO_FLOOR:-}" ] || { run_floor search; run_floor nosearch; }
done
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench WITH (FORCE)" >/dev/null

python3 - "$W/results" "$MESSAGES" "$BYTES" <<'PY'
import statistics, sys
path, messages, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in open(path):
    tool, mode, wall, user, system, rss = line.split()
    rows.setdefault((tool, mode), []).append((float(wall), float(user) + float(system), int(rss)))
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v), max(r for _, _, r in v))
       for k, v in rows.items()}
print(f"\nmailbox: {messages} messages, {total / 1e6:.1f} MB; median of {len(rows[('copy', '-')])} runs; "
      "peers and PostgreSQL on the same disk\n")
print(f"{'tool':<10} {'mode':<6} {'wall s':>8} {'MB/s':>8} {'msg/s':>8} {'CPU s':>7} {'peak RSS MB':>12}")
for (tool, mode), (wall, cpu, rss) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{tool:<10} {mode:<6} {wall:>8.2f} {total / 1e6 / wall:>8.1f} {messages / wall:>8.0f} {cpu:>7.2f} {rss / 1024:>12.1f}")
print()
copy = med[("copy", "-")][0]
for mode in ("plain", "tls"):
    if ("tributary", mode) not in med:
        continue
    t = med[("tributary", mode)][0]
    peers = [(med[(p, mode)][0], p) for p in ("mpop", "fetchmail") if (p, mode) in med]
    parts = [f"{w / t:.2f}x {p}" for w, p in peers]
    print(f"{mode}: tributary is " + ", ".join(parts) + f"; {copy / t * 100:.0f}% of the COPY rate")
if ("floor-search", "-") in med:
    floor = med[("floor-search", "-")][0]
    print(f"store floor (parsed beforehand, engine's statements, no POP3): {floor:.2f} s = "
          f"{copy / floor * 100:.0f}% of the COPY rate; without the search vector "
          f"{med[('floor-nosearch', '-')][0]:.2f} s")
PY
