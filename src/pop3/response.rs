//! Sans-IO parsing of POP3 replies: status lines (RFC 1939 §3), response codes
//! (RFC 2449 §8, RFC 3206), capabilities (RFC 2449 §6) and LIST/UIDL entries.
//! Input is one line without its line ending; nothing here reads or writes.

use std::time::Duration;

use super::error::{Pop3Error, ServerText};

/// A status line from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok(ServerText),
    Err {
        code: Option<RespCode>,
        text: ServerText,
    },
    /// `+ data`: a SASL continuation (RFC 5034 §4), data still base64.
    Continue(Vec<u8>),
}

/// Extended response codes (RFC 2449 §8, RFC 3206).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespCode {
    Auth,
    SysTemp,
    SysPerm,
    InUse,
    /// `[LOGIN-DELAY]`, with seconds when the server adds them (`[LOGIN-DELAY 900]`).
    LoginDelay(Option<u64>),
    Other(String),
}

/// Parses one status line (line ending already removed).
pub fn parse_reply(line: &[u8]) -> Result<Reply, Pop3Error> {
    if let Some(rest) = line.strip_prefix(b"+OK") {
        if !rest.is_empty() && !rest.starts_with(b" ") {
            return Err(unexpected(line));
        }
        return Ok(Reply::Ok(ServerText::new(rest)));
    }
    if let Some(rest) = line.strip_prefix(b"-ERR") {
        if !rest.is_empty() && !rest.starts_with(b" ") {
            return Err(unexpected(line));
        }
        let rest = trim_start(rest);
        let (code, text) = split_code(rest);
        return Ok(Reply::Err {
            code,
            text: ServerText::new(text),
        });
    }
    if line == b"+" {
        return Ok(Reply::Continue(Vec::new()));
    }
    if let Some(data) = line.strip_prefix(b"+ ") {
        return Ok(Reply::Continue(data.to_vec()));
    }
    Err(unexpected(line))
}

fn unexpected(line: &[u8]) -> Pop3Error {
    Pop3Error::Protocol(format!(
        "expected +OK or -ERR, got {:?}",
        ServerText::new(&line[..line.len().min(60)]).as_str()
    ))
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

fn split_code(text: &[u8]) -> (Option<RespCode>, &[u8]) {
    if !text.starts_with(b"[") {
        return (None, text);
    }
    let Some(end) = memchr::memchr(b']', text) else {
        return (None, text);
    };
    let inner = String::from_utf8_lossy(&text[1..end]).to_ascii_uppercase();
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or("");
    let code = match name {
        "AUTH" => RespCode::Auth,
        "SYS/TEMP" => RespCode::SysTemp,
        "SYS/PERM" => RespCode::SysPerm,
        "IN-USE" => RespCode::InUse,
        "LOGIN-DELAY" => RespCode::LoginDelay(words.next().and_then(|n| n.parse().ok())),
        other => RespCode::Other(ServerText::new(other.as_bytes()).as_str().to_owned()),
    };
    (Some(code), trim_start(&text[end + 1..]))
}

/// Turns a `-ERR` into the typed error its code calls for. `during_login` makes an
/// uncoded `-ERR` an authentication failure, as servers without AUTH-RESP-CODE do.
pub fn error_for(
    command: &'static str,
    code: Option<RespCode>,
    text: ServerText,
    during_login: bool,
    capa_login_delay: Option<u64>,
) -> Pop3Error {
    match code {
        Some(RespCode::Auth) => Pop3Error::Auth(text),
        Some(RespCode::SysTemp) => Pop3Error::SysTemp(text),
        Some(RespCode::SysPerm) => Pop3Error::SysPerm(text),
        Some(RespCode::InUse) => Pop3Error::InUse(text),
        Some(RespCode::LoginDelay(seconds)) => Pop3Error::LoginDelay {
            wait: seconds.or(capa_login_delay).map(Duration::from_secs),
            text,
        },
        Some(RespCode::Other(_)) | None if during_login => Pop3Error::Auth(text),
        Some(RespCode::Other(_)) | None => Pop3Error::Command { command, text },
    }
}

/// What the server says it supports (RFC 2449 §6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub top: bool,
    pub uidl: bool,
    pub user: bool,
    pub pipelining: bool,
    pub resp_codes: bool,
    pub auth_resp_code: bool,
    pub stls: bool,
    /// SASL mechanisms, upper case.
    pub sasl: Vec<String>,
    /// Minimum seconds between logins.
    pub login_delay: Option<u64>,
    /// `EXPIRE`: days messages stay on the server (`None` inside means NEVER).
    pub expire: Option<Option<u64>>,
    pub implementation: Option<String>,
    /// Every line as received (sanitised), for display.
    pub lines: Vec<String>,
}

impl Capabilities {
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut caps = Self::default();
        for line in lines {
            let text = ServerText::new(line).as_str().to_owned();
            let mut words = text.split_whitespace();
            let Some(name) = words.next() else { continue };
            match name.to_ascii_uppercase().as_str() {
                "TOP" => caps.top = true,
                "UIDL" => caps.uidl = true,
                "USER" => caps.user = true,
                "PIPELINING" => caps.pipelining = true,
                "RESP-CODES" => caps.resp_codes = true,
                "AUTH-RESP-CODE" => caps.auth_resp_code = true,
                "STLS" => caps.stls = true,
                "SASL" => caps.sasl = words.map(str::to_ascii_uppercase).collect(),
                "LOGIN-DELAY" => caps.login_delay = words.next().and_then(|n| n.parse().ok()),
                "EXPIRE" => {
                    caps.expire = Some(words.next().and_then(|n| n.parse().ok()));
                }
                "IMPLEMENTATION" => {
                    caps.implementation = Some(text[name.len()..].trim().to_owned());
                }
                _ => {}
            }
            caps.lines.push(text);
        }
        caps
    }

    pub fn has_sasl(&self, mechanism: &str) -> bool {
        self.sasl.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }
}

/// Longest unique-id RFC 1939 §7 allows.
pub const MAX_UIDL_LEN: usize = 70;

/// A `LIST` entry: message number and size in octets (a hint only: never trusted for
/// framing or allocation).
pub fn parse_list_entry(line: &[u8]) -> Result<(u32, u64), Pop3Error> {
    let text = std::str::from_utf8(line).map_err(|_| bad_entry("LIST", line))?;
    let mut words = text.split_whitespace();
    let number = words.next().and_then(|w| w.parse::<u32>().ok());
    let size = words.next().and_then(|w| w.parse::<u64>().ok());
    match (number, size) {
        (Some(n), Some(size)) if n > 0 => Ok((n, size)),
        _ => Err(bad_entry("LIST", line)),
    }
}

/// A `UIDL` entry: message number and unique id (1–70 characters 0x21–0x7E).
pub fn parse_uidl_entry(line: &[u8]) -> Result<(u32, String), Pop3Error> {
    let text = std::str::from_utf8(line).map_err(|_| bad_entry("UIDL", line))?;
    let mut words = text.split_whitespace();
    let number = words.next().and_then(|w| w.parse::<u32>().ok());
    let uid = words.next();
    match (number, uid) {
        (Some(n), Some(uid))
            if n > 0
                && !uid.is_empty()
                && uid.len() <= MAX_UIDL_LEN
                && uid.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            Ok((n, uid.to_owned()))
        }
        _ => Err(bad_entry("UIDL", line)),
    }
}

fn bad_entry(command: &str, line: &[u8]) -> Pop3Error {
    Pop3Error::Protocol(format!(
        "malformed {command} entry {:?}",
        ServerText::new(&line[..line.len().min(80)]).as_str()
    ))
}

/// The APOP timestamp (`<...@...>`) in a greeting (RFC 1939 §7), if any.
pub fn apop_timestamp(greeting: &ServerText) -> Option<String> {
    let text = greeting.as_str();
    let start = text.find('<')?;
    let end = start + text[start..].find('>')?;
    let stamp = &text[start..=end];
    stamp.contains('@').then(|| stamp.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let cases: &[(&[u8], Reply)] = &[
            (b"+OK", Reply::Ok(ServerText::new(b""))),
            (b"+OK 2 320", Reply::Ok(ServerText::new(b"2 320"))),
            (
                b"-ERR",
                Reply::Err {
                    code: None,
                    text: ServerText::new(b""),
                },
            ),
            (
                b"-ERR no such message",
                Reply::Err {
                    code: None,
                    text: ServerText::new(b"no such message"),
                },
            ),
            (
                b"-ERR [AUTH] bad password",
                Reply::Err {
                    code: Some(RespCode::Auth),
                    text: ServerText::new(b"bad password"),
                },
            ),
            (
                b"-ERR [SYS/TEMP] try later",
                Reply::Err {
                    code: Some(RespCode::SysTemp),
                    text: ServerText::new(b"try later"),
                },
            ),
            (
                b"-ERR [SYS/PERM] gone",
                Reply::Err {
                    code: Some(RespCode::SysPerm),
                    text: ServerText::new(b"gone"),
                },
            ),
            (
                b"-ERR [IN-USE] locked",
                Reply::Err {
                    code: Some(RespCode::InUse),
                    text: ServerText::new(b"locked"),
                },
            ),
            (
                b"-ERR [LOGIN-DELAY 900] wait",
                Reply::Err {
                    code: Some(RespCode::LoginDelay(Some(900))),
                    text: ServerText::new(b"wait"),
                },
            ),
            (
                b"-ERR [LOGIN-DELAY] wait",
                Reply::Err {
                    code: Some(RespCode::LoginDelay(None)),
                    text: ServerText::new(b"wait"),
                },
            ),
            (
                b"-ERR [in-use] lower case",
                Reply::Err {
                    code: Some(RespCode::InUse),
                    text: ServerText::new(b"lower case"),
                },
            ),
            (
                b"-ERR [XFOO] odd",
                Reply::Err {
                    code: Some(RespCode::Other("XFOO".into())),
                    text: ServerText::new(b"odd"),
                },
            ),
            (
                b"-ERR [unterminated",
                Reply::Err {
                    code: None,
                    text: ServerText::new(b"[unterminated"),
                },
            ),
            (b"+ VXNlcm5hbWU6", Reply::Continue(b"VXNlcm5hbWU6".to_vec())),
            (b"+", Reply::Continue(Vec::new())),
        ];
        for (line, expected) in cases {
            assert_eq!(
                &parse_reply(line).expect("parses"),
                expected,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        for bad in [
            &b""[..],
            b"OK",
            b"+OKAY",
            b"-ERROR x",
            b"HTTP/1.1 400 Bad Request",
            b"220 smtp.example.org ESMTP",
        ] {
            assert!(
                matches!(parse_reply(bad), Err(Pop3Error::Protocol(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn codes_become_typed_errors() {
        let t = || ServerText::new(b"x");
        assert!(error_for("PASS", None, t(), true, None).is_auth());
        assert!(matches!(
            error_for("RETR", None, t(), false, None),
            Pop3Error::Command {
                command: "RETR",
                ..
            }
        ));
        assert!(error_for("PASS", Some(RespCode::InUse), t(), true, None).is_in_use());
        assert!(matches!(
            error_for("PASS", Some(RespCode::SysTemp), t(), true, None),
            Pop3Error::SysTemp(_)
        ));
        assert!(matches!(
            error_for("PASS", Some(RespCode::SysPerm), t(), true, None),
            Pop3Error::SysPerm(_)
        ));
        assert_eq!(
            error_for(
                "PASS",
                Some(RespCode::LoginDelay(None)),
                t(),
                true,
                Some(600)
            )
            .login_delay(),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            error_for(
                "PASS",
                Some(RespCode::LoginDelay(Some(900))),
                t(),
                true,
                Some(600)
            )
            .login_delay(),
            Some(Duration::from_secs(900))
        );
    }

    #[test]
    fn capabilities() {
        let lines: Vec<&[u8]> = vec![
            b"TOP",
            b"UIDL",
            b"RESP-CODES",
            b"PIPELINING",
            b"AUTH-RESP-CODE",
            b"STLS",
            b"USER",
            b"SASL PLAIN login",
            b"LOGIN-DELAY 900",
            b"EXPIRE NEVER",
            b"IMPLEMENTATION Dovecot 2",
        ];
        let caps = Capabilities::parse(lines);
        assert!(
            caps.top
                && caps.uidl
                && caps.resp_codes
                && caps.pipelining
                && caps.auth_resp_code
                && caps.stls
                && caps.user
        );
        assert_eq!(caps.sasl, ["PLAIN", "LOGIN"]);
        assert!(caps.has_sasl("login"));
        assert_eq!(caps.login_delay, Some(900));
        assert_eq!(caps.expire, Some(None));
        assert_eq!(caps.implementation.as_deref(), Some("Dovecot 2"));
        assert_eq!(caps.lines.len(), 11);
    }

    #[test]
    fn list_and_uidl_entries() {
        assert_eq!(parse_list_entry(b"1 120").expect("ok"), (1, 120));
        assert_eq!(parse_list_entry(b"2  3000 extra").expect("ok"), (2, 3000));
        for bad in [
            &b"0 12"[..],
            b"x 1",
            b"1",
            b"1 -5",
            b"",
            b"1 99999999999999999999999",
        ] {
            assert!(parse_list_entry(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_uidl_entry(b"1 whqtswO00WBw418f9t5JxYwZ").expect("ok"),
            (1, "whqtswO00WBw418f9t5JxYwZ".into())
        );
        let too_long = format!("1 {}", "a".repeat(71));
        for bad in [&b"1"[..], b"0 abc", b"1 \xffabc", too_long.as_bytes()] {
            assert!(parse_uidl_entry(bad).is_err(), "{bad:?}");
        }
        assert!(parse_uidl_entry(&format!("1 {}", "a".repeat(70)).into_bytes()).is_ok());
    }

    #[test]
    fn apop_timestamps() {
        let g = ServerText::new(b"POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
        assert_eq!(
            apop_timestamp(&g).as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        assert_eq!(apop_timestamp(&ServerText::new(b"Dovecot ready.")), None);
        assert_eq!(
            apop_timestamp(&ServerText::new(b"ready <no-at-sign>")),
            None
        );
    }
}
