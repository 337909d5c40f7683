//! A sentence for a person, said by a layer that does not choose the language: the
//! protocol clients, the fetch engine and the account checks name a catalogue message and
//! its values, and the page that shows it words it in the reader's language. Kept as JSON
//! where it is stored (an account's last error, a run's error), so a status written by
//! the scheduler at night reads in French to a French reader the next morning.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A catalogue message id and its named values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub id: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<Cow<'static, str>, Arg>,
}

/// One value of a [`Text`]: a number (plurals choose by it), words of their own (worded in
/// the same language), or text shown as it is (a server's answer, a host name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Number(i64),
    Text(Box<Text>),
    Plain(String),
}

impl Text {
    pub const fn new(id: &'static str) -> Self {
        Self {
            id: Cow::Borrowed(id),
            args: BTreeMap::new(),
        }
    }

    /// The same message with one more named value.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.insert(Cow::Borrowed(name), value.into());
        self
    }

    /// In English: for logs, the command line and the API, which speak English.
    pub fn english(&self) -> String {
        super::Locale::default().say(self)
    }

    /// The stored form (a JSON document); `None` only if serde_json cannot write it,
    /// which it always can.
    pub fn to_json_string(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// A stored text, if it still reads as one (a row from an older or newer version
    /// may not: the caller then shows the English it stored beside it).
    pub fn from_json_str(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

/// A network error from the operating system in words: the usual kinds by name (so they
/// read in the person's language), the rare ones as the system says them.
pub fn io_text(error: &std::io::Error) -> Text {
    use std::io::ErrorKind;
    let id = match error.kind() {
        ErrorKind::ConnectionRefused => "io-refused",
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => "io-reset",
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => "io-unreachable",
        ErrorKind::TimedOut => "io-timeout",
        ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe | ErrorKind::NotConnected => "io-closed",
        _ => return Text::new("io-other").with("problem", error.to_string()),
    };
    Text::new(id)
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl From<Text> for Arg {
    fn from(text: Text) -> Self {
        Self::Text(Box::new(text))
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Self::Plain(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Self::Plain(text.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Self::Plain(text.clone())
    }
}

impl From<&crate::server_text::ServerText> for Arg {
    fn from(text: &crate::server_text::ServerText) -> Self {
        Self::Plain(text.as_str().to_owned())
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_args!(i64, i32, u64, u32, u16, usize);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Locale, Zone};

    #[test]
    fn a_stored_text_reads_back_and_words_in_each_language() {
        let inner = Text::new("io-refused");
        let text = Text::new("connect-failed")
            .with("problem", inner)
            .with("count", 3u16);
        let json = text.to_json_string().expect("json");
        assert_eq!(Text::from_json_str(&json), Some(text.clone()));
        let english = text.english();
        let french = Locale::new(Lang::Fr, Zone::utc()).say(&text);
        assert!(english.contains("refused"), "{english}");
        assert!(french.contains("refusé"), "{french}");
        assert_ne!(english, french);
    }

    #[test]
    fn a_value_from_a_server_is_kept_as_it_is() {
        let text = Text::new("pop3-auth").with("server", "{ $x } <b>");
        assert!(text.english().ends_with("{ $x } <b>"), "{}", text.english());
        assert_eq!(Text::from_json_str(r#"{"id": 3}"#), None);
    }
}
