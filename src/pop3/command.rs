//! POP3 commands and their encoding (RFC 1939 §5–7, RFC 2449, RFC 2595, RFC 5034).

use std::fmt;

use super::error::Pop3Error;
use crate::secret::Secret;

pub enum Command<'a> {
    Capa,
    Stls,
    User(&'a str),
    Pass(&'a Secret),
    Apop {
        user: &'a str,
        digest: &'a str,
    },
    /// `AUTH mechanism` (no initial response: every server supports the round trip).
    Auth(&'a str),
    /// A base64 SASL response line; holds credentials.
    SaslResponse(&'a str),
    Stat,
    List,
    Uidl,
    Retr(u32),
    Top {
        message: u32,
        lines: u32,
    },
    Dele(u32),
    Noop,
    Rset,
    Quit,
}

impl Command<'_> {
    /// The command word, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Capa => "CAPA",
            Self::Stls => "STLS",
            Self::User(_) => "USER",
            Self::Pass(_) => "PASS",
            Self::Apop { .. } => "APOP",
            Self::Auth(_) => "AUTH",
            Self::SaslResponse(_) => "AUTH",
            Self::Stat => "STAT",
            Self::List => "LIST",
            Self::Uidl => "UIDL",
            Self::Retr(_) => "RETR",
            Self::Top { .. } => "TOP",
            Self::Dele(_) => "DELE",
            Self::Noop => "NOOP",
            Self::Rset => "RSET",
            Self::Quit => "QUIT",
        }
    }

    /// Appends the command line to `out`. Arguments with CR, LF or NUL are refused, so
    /// a user name can never smuggle a second command.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Pop3Error> {
        let argument = |out: &mut Vec<u8>, arg: &str| {
            if arg.is_empty() || arg.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'\0')) {
                return Err(Pop3Error::Protocol(format!(
                    "refusing to send {} with an empty argument or a line break in it",
                    self.name()
                )));
            }
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
            Ok(())
        };
        match self {
            Self::SaslResponse(data) => {
                if data.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'\0')) {
                    return Err(Pop3Error::Protocol("malformed SASL response".into()));
                }
                out.extend_from_slice(data.as_bytes());
            }
            _ => {
                out.extend_from_slice(self.name().as_bytes());
                match self {
                    Self::User(user) => argument(out, user)?,
                    Self::Pass(password) => argument(out, password.expose())?,
                    Self::Apop { user, digest } => {
                        argument(out, user)?;
                        argument(out, digest)?;
                    }
                    Self::Auth(mechanism) => argument(out, mechanism)?,
                    Self::Retr(n) | Self::Dele(n) => argument(out, &n.to_string())?,
                    Self::Top { message, lines } => {
                        argument(out, &message.to_string())?;
                        argument(out, &lines.to_string())?;
                    }
                    _ => {}
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

impl fmt::Debug for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pass(_) | Self::SaslResponse(_) | Self::Apop { .. } => {
                write!(f, "{} [redacted]", self.name())
            }
            Self::User(user) => write!(f, "USER {user}"),
            Self::Auth(mechanism) => write!(f, "AUTH {mechanism}"),
            Self::Retr(n) | Self::Dele(n) => write!(f, "{} {n}", self.name()),
            Self::Top { message, lines } => write!(f, "TOP {message} {lines}"),
            _ => f.write_str(self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(command: Command<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        command.encode(&mut out).expect("encodes");
        out
    }

    #[test]
    fn commands_encode_exactly() {
        let pw = Secret::new("s3cret pw");
        assert_eq!(wire(Command::Capa), b"CAPA\r\n");
        assert_eq!(
            wire(Command::User("ann@example.org")),
            b"USER ann@example.org\r\n"
        );
        assert_eq!(wire(Command::Pass(&pw)), b"PASS s3cret pw\r\n");
        assert_eq!(
            wire(Command::Apop {
                user: "mrose",
                digest: "c4c9334bac560ecc979e58001b3e22fb"
            }),
            b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"
        );
        assert_eq!(wire(Command::Auth("PLAIN")), b"AUTH PLAIN\r\n");
        assert_eq!(
            wire(Command::SaslResponse("AGFubgBwdw==")),
            b"AGFubgBwdw==\r\n"
        );
        assert_eq!(wire(Command::Retr(7)), b"RETR 7\r\n");
        assert_eq!(
            wire(Command::Top {
                message: 3,
                lines: 0
            }),
            b"TOP 3 0\r\n"
        );
        assert_eq!(wire(Command::Dele(12)), b"DELE 12\r\n");
        assert_eq!(wire(Command::Quit), b"QUIT\r\n");
    }

    #[test]
    fn injection_is_refused_and_secrets_are_not_printed() {
        let mut out = Vec::new();
        assert!(Command::User("ann\r\nDELE 1").encode(&mut out).is_err());
        assert!(
            Command::Pass(&Secret::new("pw\nQUIT"))
                .encode(&mut out)
                .is_err()
        );
        assert!(Command::User("").encode(&mut out).is_err());
        let pw = Secret::new("hunter2");
        assert_eq!(format!("{:?}", Command::Pass(&pw)), "PASS [redacted]");
        assert_eq!(
            format!("{:?}", Command::SaslResponse("aHVudGVyMg==")),
            "AUTH [redacted]"
        );
    }
}
