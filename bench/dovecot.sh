# Shared by the benchmarks (source it): installs what is missing, makes a tmpfs work
# directory $W with a test CA, and starts a private Dovecot on two free loopback ports
# ($PLAIN_PORT, $TLS_PORT). Mailboxes live under $W/home/<user>/Maildir.
#
#   bench_packages PKG_CHECKS...   e.g. bench_packages mpop fetchmail
#   bench_workdir                  sets W (removed, with Dovecot stopped, on exit)
#   bench_users USER...            passwd entries (password: benchpw) and empty Maildirs
#   bench_dovecot [LOGIN_CONFIG [EXTRA_CONFIG]]
#                                  writes the config (LOGIN_CONFIG goes inside the
#                                  pop3-login service) and starts Dovecot

export DEBIAN_FRONTEND=noninteractive

bench_packages() {
    local missing=()
    command -v dovecot >/dev/null || missing+=(dovecot-core)
    [ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
    command -v openssl >/dev/null || missing+=(openssl)
    [ -x /usr/bin/time ] || missing+=(time)
    local tool
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

bench_workdir() {
    W=$(mktemp -d /dev/shm/tributary-bench.XXXXXX)
    chmod 755 "$W"  # Dovecot's auth and mail processes do not run as root
    trap 'dovecot -c "$W/dovecot.conf" stop 2>/dev/null || true; rm -rf "$W"' EXIT
    mkdir -p "$W/run" "$W/state" "$W/home"
    ( cd "$W"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Bench CA" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
          -extfile ext.cnf 2>/dev/null )
    : > "$W/passwd"
}

bench_users() {
    local user
    for user in "$@"; do
        echo "$user:{PLAIN}benchpw::::::" >> "$W/passwd"
        mkdir -p "$W/home/$user/Maildir/"{cur,new,tmp}
    done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_dovecot() {
    PLAIN_PORT=$(free_port); TLS_PORT=$(free_port)
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
  ${1:-}
}
${2:-}
CONF
    dovecot -c "$W/dovecot.conf"
    sleep 1
}

# Sets CMD to the peer's command line for downloading USER's mailbox (kept on the server)
# over MODE (plain|tls) into the Maildir OUT (mpop) or the file OUT/all.bsmtp (fetchmail,
# its lightest sink). The peers' state (UIDL lists) lives in $W and is reset here.
peer_command() { # tool mode out user
    local tool=$1 mode=$2 out=$3 user=$4 port=$PLAIN_PORT
    [ "$mode" = tls ] && port=$TLS_PORT
    rm -f "$W/mpop-uidls" "$W/fetchids"
    case $tool in
      mpop)
        local tls=off; [ "$mode" = tls ] && tls=on
        printf 'account bench\nhost 127.0.0.1\nport %s\ntls %s\ntls_starttls off\ntls_trust_file %s\nauth user\nuser %s\npassword benchpw\nkeep on\nonly_new off\nreceived_header off\nuidls_file %s\ndelivery maildir %s\n' \
            "$port" "$tls" "$W/ca.crt" "$user" "$W/mpop-uidls" "$out" > "$W/mpoprc"; chmod 600 "$W/mpoprc"
        CMD=(mpop -C "$W/mpoprc" -q bench) ;;
      fetchmail)
        local ssl="sslproto ''"; [ "$mode" = tls ] && ssl="ssl sslcertfile $W/ca.crt sslcertck sslcommonname localhost"
        printf 'set no syslog\npoll 127.0.0.1 port %s protocol pop3 user "%s" password "benchpw" keep fetchall %s\n' \
            "$port" "$user" "$ssl" > "$W/fetchmailrc"
        chmod 600 "$W/fetchmailrc"
        CMD=(fetchmail -f "$W/fetchmailrc" -i "$W/fetchids" --silent --bsmtp "$out/all.bsmtp") ;;
    esac
}

# CPU seconds (user + system) a server has used so far: its main process, the children
# it has reaped and those still running. Read before and after a cycle to get a
# server's share of it (PostgreSQL's postmaster, Dovecot's master).
server_cpu() { # pid
    local pid=$1 tick total child
    tick=$(getconf CLK_TCK)
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")
    for child in $(ps --ppid "$pid" -o pid=); do
        [ -r "/proc/$child/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
    done
    awk "BEGIN { print $total / $tick }"
}
postgres_pid() { head -n 1 "$(psql "${PG:-postgres://postgres@127.0.0.1:5432}/postgres" -qAtc 'SHOW data_directory')/postmaster.pid"; }
dovecot_pid() { cat "$W/run/master.pid"; }
