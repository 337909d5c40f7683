#!/usr/bin/env bash
# Sending benchmark (issue 13): the time from "Send" to the message lying in the
# recipient's Maildir, through a private Postfix (submission on implicit TLS, SASL through
# the private Dovecot's auth socket), one message at a time, median of RUNS. Loopback only.
#
#   bench/send.sh [RUNS (default 20)]
#
# Three senders on the same Postfix, in the same run:
#   api   — POST /api/v1/messages to a running `tributary serve` (what the Send button
#           does: stored as queued, the outbox worker woken, submitted, 250);
#   cli   — `tributary send` (a fresh process: connects to PostgreSQL, queues, submits);
#   msmtp — the peer: a fresh `msmtp` process submitting the same message.
# Prints each median (and min/max) in milliseconds and the ratios against msmtp.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
PG=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
. bench/dovecot.sh
if ! command -v postfix >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
bench_packages msmtp postfix psql curl

cargo build --release --locked -q
TRIBUTARY=$PWD/target/release/tributary

bench_workdir
bench_users bench
bench_dovecot "" "service auth {
  unix_listener auth-smtp {
    mode = 0666
  }
}"

# Postfix: submission with implicit TLS, delivering bench.test into one Maildir.
SMTP_PORT=$(free_port)
P=$W/postfix
mkdir -p "$P"/{queue,data} "$W/mail/inbox"/{cur,new,tmp}
chown postfix "$P/data"
chown -R 65534:65534 "$W/mail"
cat > "$P/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $P/queue
data_directory = $P/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.bench.test
mydestination =
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $W/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_cert_file = $W/server.crt
smtpd_tls_key_file = $W/server.key
smtpd_sasl_type = dovecot
smtpd_sasl_path = $W/run/auth-smtp
smtpd_relay_restrictions = permit_sasl_authenticated, reject
maillog_file_prefixes = $W
maillog_file = $P/postfix.log
CONF
{
    echo "$SMTP_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject"
    # Postfix's own services, as in its default master.cf.
    for service in "pickup unix n - n 60 1 pickup" "cleanup unix n - n - 0 cleanup" \
        "qmgr unix n - n 300 1 qmgr" "tlsmgr unix - - n 1000? 1 tlsmgr" \
        "rewrite unix - - n - - trivial-rewrite" "bounce unix - - n - 0 bounce" \
        "defer unix - - n - 0 bounce" "trace unix - - n - 0 bounce" "verify unix - - n - 1 verify" \
        "flush unix n - n 1000? 0 flush" "proxymap unix - - n - - proxymap" \
        "smtp unix - - n - - smtp" "relay unix - - n - - smtp" "showq unix n - n - - showq" \
        "error unix - - n - - error" "retry unix - - n - - error" "discard unix - - n - - discard" \
        "local unix - n n - - local" "virtual unix - n n - - virtual" "lmtp unix - - n - - lmtp" \
        "anvil unix - - n - 1 anvil" "scache unix - - n - 1 scache" "postlog unix-dgram n - n - 1 postlogd"; do
        echo "$service"
    done
} > "$P/master.cf"
postfix -c "$P" start || { cat "$P/postfix.log" 2>/dev/null; exit 1; }
trap 'postfix -c "$P" stop 2>/dev/null || true; kill "${SERVE:-}" 2>/dev/null || true; dovecot -c "$W/dovecot.conf" stop 2>/dev/null || true; rm -rf "$W"' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 1)" 2>/dev/null; do sleep 0.1; done

# Tributary: a database, a user, an account with a sending identity, a token.
export DATABASE_URL=$PG/tributary_bench_send TRIBUTARY_ALLOW_PRIVATE_HOSTS=true
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY TRIBUTARY_SEND_PER_HOUR=100000
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_send WITH (FORCE)" >/dev/null
"$TRIBUTARY" migrate >/dev/null
echo "a long bench password" | "$TRIBUTARY" user add --email bench@example.org --password-stdin >/dev/null
# The account never fetches (nothing listens on its POP3 port); it exists to send.
ACCOUNT=$(echo benchpw | "$TRIBUTARY" account add --user bench@example.org --host 127.0.0.1 \
    --port "$PLAIN_PORT" --security plain --username bench --email bench@bench.test \
    --poll-minutes 1440 --password-stdin 2>/dev/null | tail -n 1)
"$TRIBUTARY" account sending --account "$ACCOUNT" --smtp-host 127.0.0.1 --smtp-port "$SMTP_PORT" \
    --ca "$W/ca.crt" --from-name "Bench" >/dev/null
TOKEN=$("$TRIBUTARY" token create --user bench@example.org --name bench --scope write 2>/dev/null)
API_PORT=$(free_port)
TRIBUTARY_LISTEN=127.0.0.1:$API_PORT "$TRIBUTARY" serve > "$W/serve.log" 2>&1 &
SERVE=$!
until grep -q "listening" "$W/serve.log"; do sleep 0.1; done

printf 'account bench\nhost 127.0.0.1\nport %s\ntls on\ntls_starttls off\ntls_trust_file %s\nauth plain\nuser bench\npassword benchpw\nfrom bench@bench.test\ndomain bench.test\n' \
    "$SMTP_PORT" "$W/ca.crt" > "$W/msmtprc"
chmod 600 "$W/msmtprc"

export TRIBUTARY ACCOUNT TOKEN API_PORT W RUNS
python3 - <<'PY'
import json, os, statistics, subprocess, time, urllib.request

W, runs = os.environ["W"], int(os.environ["RUNS"])
inbox = os.path.join(W, "mail", "inbox", "new")
body = "A short note to measure sending.\n"

def delivered():
    return len(os.listdir(inbox))

def api(i):
    request = urllib.request.Request(
        f"http://127.0.0.1:{os.environ['API_PORT']}/api/v1/messages",
        data=json.dumps({"account_id": os.environ["ACCOUNT"], "to": ["bob@bench.test"],
                         "subject": f"api {i}", "text": body}).encode(),
        headers={"Authorization": f"Bearer {os.environ['TOKEN']}",
                 "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()

def cli(i):
    subprocess.run([os.environ["TRIBUTARY"], "send", "--account", os.environ["ACCOUNT"],
                    "--to", "bob@bench.test", "--subject", f"cli {i}"],
                   input=body.encode(), check=True, stdout=subprocess.DEVNULL)

def msmtp(i):
    message = (f"From: Bench <bench@bench.test>\r\nTo: bob@bench.test\r\nSubject: msmtp {i}\r\n"
               f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
               f"Message-ID: <msmtp.{i}.{time.time_ns()}@bench.test>\r\n\r\n{body}")
    subprocess.run(["msmtp", "-C", os.path.join(W, "msmtprc"), "-a", "bench", "bob@bench.test"],
                   input=message.encode(), check=True)

def measure(send, count):
    times = []
    for i in range(count + 1):
        before = delivered()
        start = time.perf_counter()
        send(i)
        while delivered() <= before:
            if time.perf_counter() - start > 30:
                raise SystemExit(f"{send.__name__}: message {i} never arrived")
            time.sleep(0.0005)
        if i > 0:  # the first warms caches and TLS session tickets
            times.append((time.perf_counter() - start) * 1000)
    return times

results = {}
# Interleaved rounds, so drift on a noisy machine hits every sender alike.
for send in (msmtp, api, cli):
    results[send.__name__] = []
for round_runs in (runs // 2, runs - runs // 2):
    for send in (msmtp, api, cli):
        results[send.__name__] += measure(send, round_runs)
print(f"Send → Maildir, one message at a time, {runs} runs each (ms):")
for name, times in results.items():
    print(f"  {name:6} median {statistics.median(times):7.1f}   min {min(times):7.1f}   max {max(times):7.1f}")
peer = statistics.median(results["msmtp"])
for name in ("api", "cli"):
    print(f"  {name} / msmtp = {statistics.median(results[name]) / peer:.2f}")
PY
psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS tributary_bench_send WITH (FORCE)" >/dev/null
