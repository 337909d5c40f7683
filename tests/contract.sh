#!/usr/bin/env bash
# Contract fuzzing of the REST API (issue 6): schemathesis (PyPI) runs every check it has
# against the live /api/v1/openapi.json of a fresh `tributary serve` with a valid write
# token — no 5xx, every response as the document says. (Every check is on by default; not
# naming them with `--checks all` lets the per-operation exceptions in schemathesis.toml apply,
# which a command-line option would override.) Both run in a network namespace
# of their own (only loopback; PostgreSQL through its Unix socket), so whatever hosts the
# fuzzer invents, nothing leaves the machine. Called by tests/run; needs root (unshare).
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${CONTRACT_MAX_EXAMPLES:-100}

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'schemathesis>=4,<5'
SCHEMATHESIS="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/schemathesis"
cargo build --locked -q
TRIBUTARY=$PWD/target/debug/tributary
SOCKET_DIR=${PGHOST_DIR:-/var/run/postgresql}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

if ! psql -h "$SOCKET_DIR" -U postgres -qAtc "SELECT 1" postgres >/dev/null; then
    echo "tests/contract.sh: PostgreSQL must accept user postgres on its socket in $SOCKET_DIR (trust)" >&2
    exit 1
fi
psql -h "$SOCKET_DIR" -U postgres -qAtc "DROP DATABASE IF EXISTS tributary_contract WITH (FORCE)" postgres >/dev/null
export DATABASE_URL="postgres://postgres@localhost/tributary_contract?host=$SOCKET_DIR"
TRIBUTARY_MASTER_KEY=$("$TRIBUTARY" keygen)
export TRIBUTARY_MASTER_KEY TRIBUTARY_LISTEN=127.0.0.1:8099 TRIBUTARY_API_REQUESTS_PER_MINUTE=100000
"$TRIBUTARY" migrate >/dev/null
echo "a long contract password" | "$TRIBUTARY" user add --email contract@example.org --password-stdin >/dev/null
TOKEN=$("$TRIBUTARY" token create --user contract@example.org --name schemathesis --scope write 2>/dev/null)
# Mail for the message endpoints to work on (without it they could only answer 404): an
# account and three messages — plain text, HTML with an attachment, hostile HTML — stored
# as the fetch engine stores them (raw bytes plus the fields lists show).
ACCOUNT=$(echo "a remote password" | "$TRIBUTARY" account add --user contract@example.org \
    --host pop.example.org --username contract --password-stdin 2>/dev/null | tail -n 1)
psql -h "$SOCKET_DIR" -U postgres -q -v ON_ERROR_STOP=1 -v account="$ACCOUNT" tributary_contract <<'SQL' >/dev/null
INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw, raw_sha256, subject,
                      from_address, from_name, snippet, has_attachments)
SELECT u.id, :'account'::uuid, m.uidl, length(m.raw), m.raw, sha256(m.raw), m.subject,
       'sender@example.org', 'Sender', m.snippet, m.attachments
FROM users u,
     (VALUES
       ('plain', convert_to(E'From: Sender <sender@example.org>\r\nTo: contract@example.org\r\nSubject: Plain text\r\nDate: Fri, 27 Nov 2026 09:00:00 +0000\r\n\r\nHello there.\r\n', 'UTF8'),
        'Plain text', 'Hello there.', false),
       ('html', convert_to(E'From: Sender <sender@example.org>\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>See <b>attached</b>.</p>\r\n--b\r\nContent-Type: application/pdf; name="r\u00e9port.pdf"\r\nContent-Disposition: attachment; filename="r\u00e9port.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n', 'UTF8'),
        'Report', 'See attached.', true),
       ('hostile', convert_to(E'From: Sender <sender@example.org>\r\nSubject: =?UTF-8?B?SG9zdGlsZQ==?=\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>\r\n', 'UTF8'),
        'Hostile', 'x', false)
     ) AS m(uidl, raw, subject, snippet, attachments)
WHERE u.email = 'contract@example.org';
SQL
export TOKEN SCHEMATHESIS TRIBUTARY EXAMPLES W CONTRACT_SEED=${CONTRACT_SEED:-1}

# One worker: with two threads, Python 3.11's ast module (which Hypothesis calls to
# describe lambdas) once failed with "AST constructor recursion depth mismatch" — a
# CPython race, not a finding; one thread costs ~20 s more.
unshare --net bash -c '
    set -euo pipefail
    ip link set lo up
    "$TRIBUTARY" serve > "$W/serve.log" 2>&1 &
    serve=$!
    for _ in $(seq 1 100); do grep -q listening "$W/serve.log" && break; sleep 0.1; done
    status=0
    "$SCHEMATHESIS" run http://127.0.0.1:8099/api/v1/openapi.json \
        --header "Authorization: Bearer $TOKEN" \
        --max-examples "$EXAMPLES" --workers 1 --no-color ${CONTRACT_SEED:+--seed "$CONTRACT_SEED"} || status=$?
    kill "$serve" 2>/dev/null || true
    wait "$serve" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        # What the server said about the failing requests, for whoever reads the CI log.
        echo "contract: errors the server logged:" >&2
        grep -E "ERROR" "$W/serve.log" | tail -n 40 >&2 || true
    fi
    if grep -q "$TOKEN" "$W/serve.log"; then
        echo "contract: the token appeared in the server log" >&2
        status=1
    fi
    exit "$status"
'
