//! What a reply, a reply to all or a forward starts with: recipients, subject and the
//! quoted original ("On <date>, <name> wrote:"), from the raw message. Pure: no I/O.

use crate::i18n::Locale;
use mail_parser::{Address, MessageParser};

use super::{display, headers};

/// How the person answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Reply,
    ReplyAll,
    Forward,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reply" => Some(Self::Reply),
            "all" => Some(Self::ReplyAll),
            "forward" => Some(Self::Forward),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::ReplyAll => "all",
            Self::Forward => "forward",
        }
    }
}

/// A new message's starting point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefill {
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub body: String,
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<(Option<String>, String)> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| {
                    let email = addr.address()?.trim().to_owned();
                    (!email.is_empty()).then(|| (addr.name().map(|n| n.trim().to_owned()), email))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn shown((name, email): &(Option<String>, String)) -> String {
    match name.as_deref().filter(|n| !n.is_empty()) {
        // Quoted, so a comma in a name does not split the list.
        Some(name) => format!("\"{}\" <{email}>", name.replace('"', "'")),
        None => email.clone(),
    }
}

fn prefixed(prefix: &str, subject: &str) -> String {
    let subject = subject.trim();
    let lower = subject.to_lowercase();
    let already = match prefix {
        "Re:" => ["re:", "aw:", "ré:", "réf:"]
            .iter()
            .any(|p| lower.starts_with(p)),
        _ => ["fwd:", "fw:", "tr:", "wg:"]
            .iter()
            .any(|p| lower.starts_with(p)),
    };
    if already {
        subject.to_owned()
    } else {
        format!("{prefix} {subject}").trim_end().to_owned()
    }
}

/// The reply or forward of `raw`. `own` are the person's own addresses: reply all leaves
/// them out. `date` is the original's date as people read it; the quote's words are in
/// the writer's language.
pub fn prefill(raw: &[u8], mode: Mode, own: &[String], date: &str, locale: &Locale) -> Prefill {
    let repaired = headers::repair(raw);
    let Some(message) = MessageParser::default().parse_headers(&repaired) else {
        return Prefill::default();
    };
    let from = mailboxes(message.from());
    let reply_to = mailboxes(message.reply_to());
    let subject = message.subject().unwrap_or_default();
    let text = display::display(raw).text.unwrap_or_default();
    let author = from
        .first()
        .map(|(name, email)| {
            name.clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| email.clone())
        })
        .unwrap_or_else(|| locale.t("reply-someone"));
    let is_own = |email: &str| own.iter().any(|o| o.eq_ignore_ascii_case(email));
    match mode {
        Mode::Reply | Mode::ReplyAll => {
            let answer_to = if reply_to.is_empty() {
                &from
            } else {
                &reply_to
            };
            let mut cc = Vec::new();
            if mode == Mode::ReplyAll {
                for mailbox in mailboxes(message.to())
                    .into_iter()
                    .chain(mailboxes(message.cc()))
                {
                    let taken = answer_to.iter().chain(cc.iter()).any(
                        |(_, e): &(Option<String>, String)| e.eq_ignore_ascii_case(&mailbox.1),
                    );
                    if !is_own(&mailbox.1) && !taken {
                        cc.push(mailbox);
                    }
                }
            }
            let quoted: String = text
                .lines()
                .map(|line| {
                    if line.is_empty() {
                        ">".to_owned()
                    } else {
                        format!("> {line}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            Prefill {
                to: answer_to.iter().map(shown).collect::<Vec<_>>().join(", "),
                cc: cc.iter().map(shown).collect::<Vec<_>>().join(", "),
                subject: prefixed("Re:", subject),
                body: format!(
                    "\n\n{}\n{quoted}\n",
                    locale.t2("reply-quote-header", "date", date, "name", author)
                ),
            }
        }
        Mode::Forward => {
            let header = |id: &str, value: String| {
                if value.is_empty() {
                    String::new()
                } else {
                    format!(
                        "{}\n",
                        locale.t2("forward-line", "name", locale.t(id), "value", value)
                    )
                }
            };
            let list = |a| {
                mailboxes(a)
                    .iter()
                    .map(shown)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Prefill {
                to: String::new(),
                cc: String::new(),
                subject: prefixed("Fwd:", subject),
                body: format!(
                    "\n\n---------- {} ----------\n{}{}{}{}{}\n{text}\n",
                    locale.t("forward-separator"),
                    header("forward-from", list(message.from())),
                    header("forward-date", date.to_owned()),
                    header("forward-subject", subject.to_owned()),
                    header("forward-to", list(message.to())),
                    header("forward-cc", list(message.cc())),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] = b"From: \"Doe, Bob\" <bob@example.net>\r\nTo: alice@example.org, carol@example.com\r\n\
        Cc: Dan <dan@example.com>, ALICE@example.org\r\nSubject: Plans\r\nMessage-ID: <p@example.net>\r\n\r\n\
        Line one\r\n\r\nLine two\r\n";

    #[test]
    fn the_quote_is_in_the_writers_language() {
        let french = Locale::new(crate::i18n::Lang::Fr, crate::i18n::Zone::utc());
        let reply = prefill(ORIGINAL, Mode::Reply, &[], "3 déc. 2026", &french);
        assert!(
            reply
                .body
                .contains("Le 3 déc. 2026, Doe, Bob a écrit :\n> Line one"),
            "{}",
            reply.body
        );
        let forward = prefill(ORIGINAL, Mode::Forward, &[], "3 déc. 2026", &french);
        assert!(
            forward.body.contains("Message transféré")
                && forward.body.contains("\nObjet : Plans\n"),
            "{}",
            forward.body
        );
    }

    #[test]
    fn a_reply_quotes_and_answers_the_sender() {
        let reply = prefill(
            ORIGINAL,
            Mode::Reply,
            &["alice@example.org".into()],
            "3 Dec 2026",
            &Locale::default(),
        );
        assert_eq!(reply.to, "\"Doe, Bob\" <bob@example.net>");
        assert_eq!(reply.cc, "");
        assert_eq!(reply.subject, "Re: Plans");
        assert!(
            reply
                .body
                .contains("On 3 Dec 2026, Doe, Bob wrote:\n> Line one\n>\n> Line two"),
            "{}",
            reply.body
        );
        let again = prefill(
            b"From: a@example.net\r\nReply-To: list@example.net\r\nSubject: RE: x\r\n\r\nhi\r\n",
            Mode::Reply,
            &[],
            "d",
            &Locale::default(),
        );
        assert_eq!(
            (again.to.as_str(), again.subject.as_str()),
            ("list@example.net", "RE: x")
        );
    }

    #[test]
    fn reply_all_leaves_out_the_person_and_duplicates() {
        let all = prefill(
            ORIGINAL,
            Mode::ReplyAll,
            &["alice@example.org".into()],
            "d",
            &Locale::default(),
        );
        assert_eq!(all.to, "\"Doe, Bob\" <bob@example.net>");
        assert_eq!(all.cc, "carol@example.com, \"Dan\" <dan@example.com>");
        let parsed = crate::mail::address::parse_list(&all.cc).expect("the list parses back");
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn a_forward_carries_the_original_headers_and_text() {
        let forward = prefill(
            ORIGINAL,
            Mode::Forward,
            &[],
            "3 Dec 2026",
            &Locale::default(),
        );
        assert_eq!(forward.subject, "Fwd: Plans");
        assert!(forward.to.is_empty());
        assert!(forward.body.contains("---------- Forwarded message ----------\nFrom: \"Doe, Bob\" <bob@example.net>\nDate: 3 Dec 2026\nSubject: Plans\n"), "{}", forward.body);
        assert!(forward.body.contains("Line two"));
    }
}
