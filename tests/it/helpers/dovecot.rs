//! A private Dovecot POP3 server on free loopback ports: plain+STLS and implicit TLS,
//! with a test CA, passwd-file users and Maildir mailboxes in a temporary directory.

use std::path::PathBuf;
use std::process::Command;

use super::TempDir;
use super::certs::TestCerts;

/// Mail files belong to this uid (nobody), as Dovecot will not serve mail as root.
const MAIL_UID: u32 = 65534;

pub struct Dovecot {
    dir: TempDir,
    config: PathBuf,
    pub plain_port: u16,
    pub tls_port: u16,
    pub certs: TestCerts,
}

impl Dovecot {
    /// Starts Dovecot with these (user, password) pairs.
    pub async fn start(users: &[(&str, &str)]) -> Self {
        Self::start_with(users, None).await
    }

    /// Starts Dovecot whose users sign in with an OAuth 2.0 bearer token (XOAUTH2 or
    /// OAUTHBEARER), each checked by its `oauth2` passdb at `introspection_url`
    /// (RFC 7662, POST); `users` only get mailboxes.
    pub async fn start_oauth(users: &[&str], introspection_url: &str) -> Self {
        let users: Vec<(&str, &str)> = users.iter().map(|u| (*u, "unused")).collect();
        Self::start_with(&users, Some(introspection_url)).await
    }

    async fn start_with(users: &[(&str, &str)], introspection_url: Option<&str>) -> Self {
        let dir = TempDir::new();
        let root = dir.path().to_path_buf();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("dirs");
        }
        let certs = TestCerts::create(&root);
        let mut passwd = String::new();
        for (user, password) in users {
            passwd.push_str(&format!("{user}:{{PLAIN}}{password}::::::\n"));
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(root.join("home").join(user).join("Maildir").join(sub))
                    .expect("maildir");
            }
        }
        std::fs::write(root.join("passwd"), passwd).expect("passwd");
        let (plain_port, tls_port) = (super::free_port(), super::free_port());
        let r = root.display();
        let (mechanisms, passdb) = match introspection_url {
            None => (
                "plain login apop".to_owned(),
                format!("passdb {{\n  driver = passwd-file\n  args = {r}/passwd\n}}\n"),
            ),
            Some(url) => {
                let oauth2 = root.join("oauth2.conf.ext");
                std::fs::write(
                    &oauth2,
                    format!(
                        "introspection_mode = post\nintrospection_url = {url}\n\
                         username_attribute = username\nactive_attribute = active\n\
                         active_value = true\n"
                    ),
                )
                .expect("oauth2 config");
                (
                    "xoauth2 oauthbearer".to_owned(),
                    format!(
                        "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
                        oauth2.display()
                    ),
                )
            }
        };
        let config = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\ninstance_name = tributary-{plain_port}\n\
             log_path = {r}/dovecot.log\nprotocols = pop3\nlisten = 127.0.0.1\n\
             ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n\
             disable_plaintext_auth = no\nauth_mechanisms = {mechanisms}\n\
             first_valid_uid = 1\nmail_fsync = never\n{passdb}\
             userdb {{\n  driver = static\n  args = uid={MAIL_UID} gid={MAIL_UID} home={r}/home/%u mail=maildir:{r}/home/%u/Maildir\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = {plain_port}\n  }}\n  \
             inet_listener pop3s {{\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n\
             service auth {{\n  unix_listener {r}/auth-smtp {{\n    mode = 0666\n  }}\n}}\n",
            cert = certs.cert_path.display(),
            key = certs.key_path.display(),
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).expect("config");
        super::chown_tree(&root.join("home"), MAIL_UID);
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&config_path)
            .status()
            .expect("dovecot runs (installed by tests/run)");
        assert!(
            status.success(),
            "dovecot failed to start: {}",
            std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
        );
        let server = Self {
            dir,
            config: config_path,
            plain_port,
            tls_port,
            certs,
        };
        for port in [plain_port, tls_port] {
            super::wait_for_port(port, "dovecot").await;
        }
        server
    }

    /// Where a test keeps its own certificates for this server.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// From now on the server presents this certificate (its files are replaced and
    /// Dovecot reloads its configuration; each new connection gets the new one).
    pub async fn use_certificate(&self, cert: &std::path::Path, key: &std::path::Path) {
        std::fs::copy(cert, &self.certs.cert_path).expect("cert");
        std::fs::copy(key, &self.certs.key_path).expect("key");
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&self.config)
            .arg("reload")
            .status()
            .expect("dovecot reload");
        assert!(status.success(), "dovecot reload");
        // The reload is asynchronous: wait until a handshake shows the new certificate.
        let wanted = der_of(&std::fs::read(cert).expect("cert"));
        for _ in 0..100 {
            let presented = presented_pem(self.tls_port)
                .await
                .and_then(|pem| der_of(&pem));
            if presented.is_some() && presented == wanted {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("dovecot never presented the new certificate");
    }

    /// The authentication socket Postfix checks SMTP logins against (the same users).
    pub fn auth_socket(&self) -> PathBuf {
        self.dir.path().join("auth-smtp")
    }

    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.path().join("home").join(user).join("Maildir")
    }

    /// Puts a message into the user's mailbox, as a delivery agent would.
    pub fn deliver(&self, user: &str, name: &str, bytes: &[u8]) {
        let path = self.maildir(user).join("new").join(name);
        std::fs::write(&path, bytes).expect("deliver");
        let _ = std::os::unix::fs::chown(&path, Some(MAIL_UID), Some(MAIL_UID));
    }

    /// How many messages the user's mailbox holds on disk.
    pub fn stored(&self, user: &str) -> usize {
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(self.maildir(user).join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }
}

fn der_of(pem: &[u8]) -> Option<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(pem)
        .next()?
        .ok()
        .map(|der| der.to_vec())
}

/// The certificate the server on `port` presents, as PEM (`openssl s_client`).
async fn presented_pem(port: u16) -> Option<Vec<u8>> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | openssl x509"
        ))
        .output()
        .await
        .ok()?;
    output.status.success().then_some(output.stdout)
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("dovecot")
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .status();
    }
}
