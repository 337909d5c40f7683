//! A private Postfix on free loopback ports, for the SMTP submission tests: implicit TLS,
//! STARTTLS required, and a port that offers no STARTTLS at all (to prove we refuse it),
//! with the test CA's certificate, SASL through a Dovecot's auth socket (the POP3 users
//! sign in to SMTP too), and delivery of everything for `example.test` into one Maildir
//! the test reads back.

use std::path::PathBuf;
use std::process::Command;

use super::TempDir;
use super::certs::TestCerts;
use super::dovecot::Dovecot;

/// Delivered mail belongs to nobody, as in the Dovecot harness.
const MAIL_UID: u32 = 65534;

/// The domain whose mail Postfix keeps (every address in it lands in one Maildir).
pub const LOCAL_DOMAIN: &str = "example.test";

pub struct Postfix {
    dir: TempDir,
    pub implicit_tls_port: u16,
    pub starttls_port: u16,
    /// Offers no STARTTLS (and no AUTH): a downgraded server.
    pub no_tls_port: u16,
    pub certs: TestCerts,
}

const MASTER_SERVICES: &str = "\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

impl Postfix {
    /// Starts Postfix checking logins against `dovecot`'s users.
    pub async fn start(dovecot: &Dovecot) -> Self {
        let dir = TempDir::new();
        let root = dir.path().to_path_buf();
        for sub in ["queue", "data", "mail"] {
            std::fs::create_dir_all(root.join(sub)).expect("dirs");
        }
        std::os::unix::fs::chown(root.join("data"), Some(postfix_uid()), None).expect("chown data");
        super::chown_tree(&root.join("mail"), MAIL_UID);
        let certs = TestCerts::create(&root);
        let (implicit_tls_port, starttls_port, no_tls_port) =
            (super::free_port(), super::free_port(), super::free_port());
        let r = root.display();
        let main = format!(
            "compatibility_level = 3.6\nqueue_directory = {r}/queue\ndata_directory = {r}/data\n\
             mail_owner = postfix\nsetgid_group = postdrop\ninet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\nmyhostname = mx.{LOCAL_DOMAIN}\nmydestination =\n\
             mynetworks = 127.0.0.1/32\nalias_maps =\nalias_database =\n\
             virtual_mailbox_domains = {LOCAL_DOMAIN}\nvirtual_mailbox_base = {r}/mail\n\
             virtual_mailbox_maps = static:inbox/\nvirtual_uid_maps = static:{MAIL_UID}\n\
             virtual_gid_maps = static:{MAIL_UID}\nsmtpd_tls_cert_file = {cert}\n\
             smtpd_tls_key_file = {key}\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = {auth}\n\
             smtpd_relay_restrictions = permit_sasl_authenticated, reject\n\
             smtputf8_enable = yes\nmaillog_file_prefixes = {r}\nmaillog_file = {r}/postfix.log\n\
             message_size_limit = 10240000\n",
            cert = certs.cert_path.display(),
            key = certs.key_path.display(),
            auth = dovecot.auth_socket().display(),
        );
        let submission = "-o smtpd_sasl_auth_enable=yes \
             -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject";
        let master = format!(
            "{implicit_tls_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes {submission}\n\
             {starttls_port} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt \
             -o smtpd_tls_auth_only=yes {submission}\n\
             {no_tls_port} inet n - n - - smtpd -o smtpd_tls_security_level=none\n\
             {MASTER_SERVICES}"
        );
        std::fs::write(root.join("main.cf"), main).expect("main.cf");
        std::fs::write(root.join("master.cf"), master).expect("master.cf");
        let output = Command::new("postfix")
            .arg("-c")
            .arg(&root)
            .arg("start")
            .output()
            .expect("postfix runs (installed by tests/run)");
        assert!(
            output.status.success(),
            "postfix failed to start: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(root.join("postfix.log")).unwrap_or_default()
        );
        let server = Self {
            dir,
            implicit_tls_port,
            starttls_port,
            no_tls_port,
            certs,
        };
        for port in [implicit_tls_port, starttls_port, no_tls_port] {
            super::wait_for_port(port, "postfix").await;
        }
        server
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("mail").join("inbox")
    }

    /// Every delivered message, oldest first.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.inbox().join(sub)).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .collect();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    }

    /// Waits until `count` messages have been delivered (Postfix queues, then delivers).
    pub async fn wait_delivered(&self, count: usize) -> Vec<Vec<u8>> {
        for _ in 0..200 {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return delivered;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "postfix delivered {} of {count} messages; its log:\n{}",
            self.delivered().len(),
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postfix.log")).unwrap_or_default()
    }
}

fn postfix_uid() -> u32 {
    let output = Command::new("id")
        .args(["-u", "postfix"])
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a postfix user exists (the postfix package makes it)")
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(self.dir.path())
            .arg("stop")
            .output();
    }
}
