#!/usr/bin/env bash
# POP3 download benchmark (issue 3): `tributary pop3 fetch` against mpop, fetchmail and a
# raw pipelined RETR loop, plaintext and implicit TLS, all on the same Dovecot mailbox,
# everything (mailbox and every tool's output) on tmpfs. Loopback only.
#
#   bench/pop3_fetch.sh [MESSAGES (default 5000)] [RUNS (default 3)]
#
# Prints, per tool and mode, the median wall time, MB/s, messages/s, CPU seconds and peak
# RSS, then the ratios; finally tributary's peak RSS on a mailbox four times as large.
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${1:-5000}
RUNS=${2:-3}
# Subsets for quick comparisons, e.g. MODES=tls TOOLS="raw tributary mpop".
MODES=${MODES:-plain tls}
# `discard` is `tributary pop3 fetch --discard`: the same download, no files written — it
# shows what storing the files costs on this machine.
TOOLS=${TOOLS:-raw tributary discard mpop fetchmail}
. bench/dovecot.sh
bench_packages mpop fetchmail

cargo build --release --locked -q
cargo bench --bench raw_retr --no-run -q 2>/dev/null
RAW=$(ls -t target/release/deps/raw_retr-* | grep -v '\.d$' | head -n 1)
TRIBUTARY=target/release/tributary

bench_workdir
bench_users bench
python3 bench/genmail.py "$W/home/bench/Maildir" "$MESSAGES"
bench_dovecot
BYTES=$(find "$W/home/bench/Maildir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

run_tool() { # tool mode
    local tool=$1 mode=$2 out="$W/out" port=$PLAIN_PORT
    [ "$mode" = tls ] && port=$TLS_PORT
    rm -rf "$out"; mkdir -p "$out"/{cur,new,tmp}
    case $tool in
      tributary)
        local sec=plain; [ "$mode" = tls ] && sec=tls
        cmd=("$TRIBUTARY" pop3 fetch --host 127.0.0.1 --port "$port" --security "$sec" --ca "$W/ca.crt"
             --user bench --password-stdin --out "$out") ;;
      discard)
        local sec=plain; [ "$mode" = tls ] && sec=tls
        cmd=("$TRIBUTARY" pop3 fetch --host 127.0.0.1 --port "$port" --security "$sec" --ca "$W/ca.crt"
             --user bench --password-stdin --discard) ;;
      mpop|fetchmail)
        peer_command "$tool" "$mode" "$out" bench
        cmd=("${CMD[@]}") ;;
      raw)
        cmd=("$RAW" 127.0.0.1 "$port" bench benchpw "$MESSAGES")
        [ "$mode" = tls ] && cmd+=("$W/ca.crt") ;;
    esac
    echo benchpw | /usr/bin/time -f "%e %U %S %M" -o "$W/time" "${cmd[@]}" > "$W/tool.log" 2>&1 || {
        echo "$tool $mode failed:"; cat "$W/tool.log"; return 1; }
    echo "$tool $mode $(cat "$W/time")" >> "$W/results"
}

: > "$W/results"
for run in $(seq 1 "$RUNS"); do
    for mode in $MODES; do
        for tool in $TOOLS; do
            run_tool "$tool" "$mode"
        done
    done
done

# Peak RSS must not grow with the mailbox: the same mail four times over.
( cd "$W/home/bench/Maildir/cur" 2>/dev/null || cd "$W/home/bench/Maildir/new"
  for copy in 1 2 3; do for f in *; do cp "$f" "../new/c$copy-$f"; done; done )
chown -R 65534:65534 "$W/home"
rm -rf "$W/out"; mkdir -p "$W/out"
echo benchpw | /usr/bin/time -f "%e %U %S %M" -o "$W/time" "$TRIBUTARY" pop3 fetch --host 127.0.0.1 --port "$PLAIN_PORT" \
    --security plain --user bench --password-stdin --out "$W/out" > /dev/null
LARGE_RSS=$(awk '{print $4}' "$W/time")

python3 - "$W/results" "$MESSAGES" "$BYTES" "$LARGE_RSS" <<'PY'
import statistics, sys
path, messages, total, large_rss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    tool, mode, wall, user, system, rss = line.split()
    rows.setdefault((tool, mode), []).append((float(wall), float(user) + float(system), int(rss)))
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v), max(r for _, _, r in v)) for k, v in rows.items()}
print(f"\nmailbox: {messages} messages, {total / 1e6:.1f} MB; median of {len(next(iter(rows.values())))} runs; tmpfs\n")
print(f"{'tool':<10} {'mode':<6} {'wall s':>8} {'MB/s':>8} {'msg/s':>8} {'CPU s':>7} {'peak RSS MB':>12}")
for (tool, mode), (wall, cpu, rss) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{tool:<10} {mode:<6} {wall:>8.2f} {total / 1e6 / wall:>8.1f} {messages / wall:>8.0f} {cpu:>7.2f} {rss / 1024:>12.1f}")
print()
for mode in ("plain", "tls"):
    if ("tributary", mode) not in med:
        continue
    t = med[("tributary", mode)][0]
    peers = [f"{med[(peer, mode)][0] / t:.2f}x {peer}" for peer in ("mpop", "fetchmail") if (peer, mode) in med]
    if ("raw", mode) in med:
        peers.append(f"{med[('raw', mode)][0] / t * 100:.0f}% of the raw loop's speed")
    if ("discard", mode) in med:
        peers.append(f"{med[('discard', mode)][0] / t * 100:.0f}% of its own speed without writing files")
    print(f"{mode}: tributary is " + ", ".join(peers))
small = [v[2] for k, v in med.items() if k[0] == "tributary"]
if small:
    print(f"peak RSS: {max(small) / 1024:.1f} MB at {messages} messages, {large_rss / 1024:.1f} MB at {4 * messages} messages")
PY
