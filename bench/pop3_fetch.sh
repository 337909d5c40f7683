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
TOOLS=${TOOLS:-raw tributary mpop fetchmail}
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v dovecot >/dev/null || missing+=(dovecot-core)
[ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
command -v mpop >/dev/null || missing+=(mpop)
command -v fetchmail >/dev/null || missing+=(fetchmail)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release --locked -q
cargo bench --bench raw_retr --no-run -q 2>/dev/null
RAW=$(ls -t target/release/deps/raw_retr-* | grep -v '\.d$' | head -n 1)
TRIBUTARY=target/release/tributary

W=$(mktemp -d /dev/shm/tributary-bench.XXXXXX)
chmod 755 "$W"  # Dovecot's auth and mail processes do not run as root
cleanup() { dovecot -c "$W/dovecot.conf" stop 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/run" "$W/state" "$W/home/bench/Maildir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PLAIN_PORT=$(free_port); TLS_PORT=$(free_port)

( cd "$W"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Bench CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null )
echo 'bench:{PLAIN}benchpw::::::' > "$W/passwd"
python3 bench/genmail.py "$W/home/bench/Maildir" "$MESSAGES"
chown -R 65534:65534 "$W/home"
cat > "$W/dovecot.conf" <<CONF
base_dir = $W/run
state_dir = $W/state
instance_name = tributary-bench-$PLAIN_PORT
log_path = $W/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$W/server.crt
ssl_key = <$W/server.key
disable_plaintext_auth = no
first_valid_uid = 1
mail_fsync = never
passdb {
  driver = passwd-file
  args = $W/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$W/home/%u mail=maildir:$W/home/%u/Maildir
}
service pop3-login {
  inet_listener pop3 {
    port = $PLAIN_PORT
  }
  inet_listener pop3s {
    port = $TLS_PORT
    ssl = yes
  }
}
CONF
dovecot -c "$W/dovecot.conf"
sleep 1
BYTES=$(find "$W/home/bench/Maildir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

run_tool() { # tool mode
    local tool=$1 mode=$2 out="$W/out" port=$PLAIN_PORT
    [ "$mode" = tls ] && port=$TLS_PORT
    rm -rf "$out" "$W/mpop-uidls" "$W/fetchids"; mkdir -p "$out"/{cur,new,tmp}
    case $tool in
      tributary)
        local sec=plain; [ "$mode" = tls ] && sec=tls
        cmd=("$TRIBUTARY" pop3 fetch --host 127.0.0.1 --port "$port" --security "$sec" --ca "$W/ca.crt"
             --user bench --password-stdin --out "$out") ;;
      mpop)
        local tls=off; [ "$mode" = tls ] && tls=on
        printf 'account bench\nhost 127.0.0.1\nport %s\ntls %s\ntls_starttls off\ntls_trust_file %s\nauth user\nuser bench\npassword benchpw\nkeep on\nonly_new off\nreceived_header off\nuidls_file %s\ndelivery maildir %s\n' \
            "$port" "$tls" "$W/ca.crt" "$W/mpop-uidls" "$out" > "$W/mpoprc"; chmod 600 "$W/mpoprc"
        cmd=(mpop -C "$W/mpoprc" -q bench) ;;
      fetchmail)
        local ssl="sslproto ''"; [ "$mode" = tls ] && ssl="ssl sslcertfile $W/ca.crt sslcertck sslcommonname localhost"
        printf 'set no syslog\npoll 127.0.0.1 port %s protocol pop3 user "bench" password "benchpw" keep fetchall %s\n' "$port" "$ssl" > "$W/fetchmailrc"
        chmod 600 "$W/fetchmailrc"
        cmd=(fetchmail -f "$W/fetchmailrc" -i "$W/fetchids" --silent --bsmtp "$out/all.bsmtp") ;;
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
    print(f"{mode}: tributary is " + ", ".join(peers))
small = [v[2] for k, v in med.items() if k[0] == "tributary"]
if small:
    print(f"peak RSS: {max(small) / 1024:.1f} MB at {messages} messages, {large_rss / 1024:.1f} MB at {4 * messages} messages")
PY
