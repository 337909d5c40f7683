//! Full-text search terms, made here instead of by PostgreSQL's text parser.
//!
//! `to_tsvector` was the largest single cost of storing a message: about 12 MB/s of text
//! on one core (bench/store_floor.rs: storing 10,000 small messages took 1.9 s with it and
//! 1.1 s without). Cutting the text into words here and handing PostgreSQL a finished
//! `tsvector` costs it only the literal's parsing. The same rule cuts a search into words
//! ([`query`]), so documents and searches always agree: a word is a run of letters and
//! digits, lower-cased; everything else separates words. An address such as
//! `ann@example.org` is the phrase `ann example org`, which a search for the address finds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// PostgreSQL keeps word positions up to this; later words share the last position.
const MAX_POSITION: u16 = 16_383;
/// PostgreSQL's limit for one lexeme (bytes); longer words are left out, as
/// `to_tsvector` leaves them out.
const MAX_WORD_BYTES: usize = 2_047;
/// PostgreSQL keeps at most this many positions per lexeme.
const MAX_POSITIONS_PER_WORD: usize = 256;

/// The words of `text` in order: runs of letters and digits, lower-cased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() <= MAX_WORD_BYTES)
        .map(str::to_lowercase)
}

/// `text` as a PostgreSQL `tsvector` literal: each word once, with its positions.
pub fn document_vector(text: &str) -> String {
    let mut positions: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for (index, word) in words(text).enumerate() {
        let position = u16::try_from(index + 1)
            .unwrap_or(MAX_POSITION)
            .min(MAX_POSITION);
        let list = positions.entry(word).or_default();
        if list.len() < MAX_POSITIONS_PER_WORD && list.last() != Some(&position) {
            list.push(position);
        }
    }
    let mut literal = String::with_capacity(text.len() / 2);
    for (word, list) in &positions {
        if !literal.is_empty() {
            literal.push(' ');
        }
        push_quoted(&mut literal, word);
        literal.push(':');
        for (i, position) in list.iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            let _ = write!(literal, "{position}");
        }
    }
    literal
}

/// A search as people type it — the syntax of web search engines — as a PostgreSQL
/// `tsquery`: words must all occur; `"a quoted phrase"` and a word with punctuation
/// inside (`ann@example.org`, `e-mail`) must occur as a phrase; `-word` excludes;
/// `or` between two terms accepts either. `None` when the search holds no word at all.
pub fn query(text: &str) -> Option<String> {
    let mut terms: Vec<Term> = Vec::new();
    let mut either_pending = false;
    for token in split_terms(text) {
        let (negated, body) = match token {
            Token::Phrase(phrase) => (false, phrase),
            Token::Bare(bare) if bare.eq_ignore_ascii_case("or") => {
                either_pending = !terms.is_empty();
                continue;
            }
            Token::Bare(bare) => match bare.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, bare),
            },
        };
        let Some(mut expression) = phrase(body) else {
            continue;
        };
        if negated {
            expression = format!("!{expression}");
        }
        match terms.last_mut() {
            Some(last) if either_pending => last.alternatives.push(expression),
            _ => terms.push(Term {
                alternatives: vec![expression],
            }),
        }
        either_pending = false;
    }
    if terms.is_empty() {
        return None;
    }
    let parts: Vec<String> = terms
        .iter()
        .map(|term| match term.alternatives.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(" | ")),
        })
        .collect();
    Some(parts.join(" & "))
}

struct Term {
    alternatives: Vec<String>,
}

enum Token<'a> {
    Bare(&'a str),
    Phrase(&'a str),
}

/// Whitespace-separated terms and `"quoted phrases"` (an unclosed quote runs to the end).
fn split_terms(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return tokens;
        }
        if let Some(inside) = rest.strip_prefix('"') {
            let end = inside.find('"').unwrap_or(inside.len());
            tokens.push(Token::Phrase(&inside[..end]));
            rest = inside.get(end + 1..).unwrap_or("");
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            tokens.push(Token::Bare(&rest[..end]));
            rest = &rest[end..];
        }
    }
}

/// The words of one term: one word alone, several as a phrase (each right after the last).
fn phrase(text: &str) -> Option<String> {
    let quoted: Vec<String> = words(text)
        .map(|word| {
            let mut out = String::with_capacity(word.len() + 2);
            push_quoted(&mut out, &word);
            out
        })
        .collect();
    match quoted.len() {
        0 => None,
        1 => quoted.into_iter().next(),
        _ => Some(format!("({})", quoted.join(" <-> "))),
    }
}

/// A lexeme in quotes, as both `tsvector` and `tsquery` literals read it. Words are
/// letters and digits only, but quoting keeps the literal sound whatever they hold.
fn push_quoted(out: &mut String, word: &str) {
    out.push('\'');
    for c in word.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits_lower_cased() {
        let found: Vec<String> = words("Grüße, ANN@example.org — e-mail 3.14 x").collect();
        assert_eq!(
            found,
            vec![
                "grüße", "ann", "example", "org", "e", "mail", "3", "14", "x"
            ]
        );
        let long = "a".repeat(MAX_WORD_BYTES + 1);
        assert_eq!(words(&format!("{long} b")).collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn a_document_lists_each_word_once_with_its_positions() {
        assert_eq!(
            document_vector("The cat saw the CAT."),
            "'cat':2,5 'saw':3 'the':1,4"
        );
        assert_eq!(document_vector(""), "");
        assert_eq!(document_vector(" -- !! "), "");
    }

    #[test]
    fn positions_stop_where_postgresql_stops_them() {
        let text = "w ".repeat(20_000);
        let vector = document_vector(&text);
        let positions: Vec<&str> = vector.trim_start_matches("'w':").split(',').collect();
        assert_eq!(positions.len(), MAX_POSITIONS_PER_WORD);
        let many: String = (0..20_000).map(|i| format!("w{i} ")).collect();
        let vector = document_vector(&many);
        assert!(
            vector.contains("'w19999':16383"),
            "clamped to the last position"
        );
        assert!(vector.contains("'w16382':16383"));
        assert!(vector.contains("'w16381':16382"));
    }

    #[test]
    fn searches_follow_web_search_syntax() {
        assert_eq!(query("Invoice"), Some("'invoice'".into()));
        assert_eq!(query("invoice march"), Some("'invoice' & 'march'".into()));
        assert_eq!(
            query("\"weekly Report\" -spam"),
            Some("('weekly' <-> 'report') & !'spam'".into())
        );
        assert_eq!(
            query("ann@example.org"),
            Some("('ann' <-> 'example' <-> 'org')".into())
        );
        assert_eq!(
            query("invoice or receipt march"),
            Some("('invoice' | 'receipt') & 'march'".into())
        );
        assert_eq!(query("or invoice or"), Some("'invoice'".into()));
        assert_eq!(
            query("\"unclosed phrase"),
            Some("('unclosed' <-> 'phrase')".into())
        );
        assert_eq!(query("-- !! \"\" & | ( )"), None);
        assert_eq!(query(""), None);
    }

    #[test]
    fn operators_in_a_search_are_only_separators() {
        assert_eq!(
            query("'); DROP TABLE messages; -- & | ! <->"),
            Some("'drop' & 'table' & 'messages'".into())
        );
        assert_eq!(query("it's"), Some("('it' <-> 's')".into()));
        let mut quoted = String::new();
        push_quoted(&mut quoted, "a'b\\c");
        assert_eq!(quoted, "'a''b\\\\c'");
    }
}
