//! Plain text cut into pieces that a template escapes one by one: URLs become links and
//! search words are marked, without ever building HTML from message text by hand.

/// A run of text, or a link whose text is its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextPiece {
    Text(String),
    Link(String),
}

/// A run of text, marked when it matched the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    pub text: String,
    pub hit: bool,
}

const URL_PREFIXES: [&str; 2] = ["https://", "http://"];

/// Splits text into plain runs and `http(s)` links. Trailing punctuation that usually
/// ends a sentence (`.`, `,`, `)`…) is left out of the link.
pub fn linkify(text: &str) -> Vec<TextPiece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some((start, prefix_len)) = URL_PREFIXES
        .iter()
        .filter_map(|prefix| find_ascii_case_insensitive(rest, prefix).map(|at| (at, prefix.len())))
        .min()
    {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        while end > prefix_len && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']']) {
            end -= 1;
        }
        if end <= prefix_len {
            // A scheme with nothing after it is not a link.
            push_text(&mut pieces, &rest[..start + prefix_len]);
            rest = &rest[start + prefix_len..];
            continue;
        }
        push_text(&mut pieces, &rest[..start]);
        pieces.push(TextPiece::Link(tail[..end].to_owned()));
        rest = &tail[end..];
    }
    push_text(&mut pieces, rest);
    pieces
}

fn push_text(pieces: &mut Vec<TextPiece>, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(TextPiece::Text(last)) => last.push_str(text),
        _ => pieces.push(TextPiece::Text(text.to_owned())),
    }
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The words of a search, lower-cased, without operators, quotes or very short words.
pub fn search_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = super::search::words(query)
        .filter(|word| word.chars().count() >= 2 && word != "or")
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Marks every occurrence of each word (case-insensitively) in `text`.
pub fn mark(text: &str, words: &[String]) -> Vec<Marked> {
    if words.is_empty() {
        return vec![Marked {
            text: text.to_owned(),
            hit: false,
        }];
    }
    // Match on a lower-cased copy; keep only positions where lowering kept the byte length,
    // so offsets in the copy are offsets in the original.
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return vec![Marked {
            text: text.to_owned(),
            hit: false,
        }];
    }
    let mut hits = vec![false; text.len()];
    for word in words {
        let mut from = 0;
        while let Some(found) = lower[from..].find(word.as_str()) {
            let start = from + found;
            for flag in &mut hits[start..start + word.len()] {
                *flag = true;
            }
            from = start + word.len();
        }
    }
    let mut pieces: Vec<Marked> = Vec::new();
    for (offset, c) in text.char_indices() {
        let hit = hits[offset];
        match pieces.last_mut() {
            Some(last) if last.hit == hit => last.text.push(c),
            _ => pieces.push(Marked {
                text: c.to_string(),
                hit,
            }),
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_punctuation_left_out() {
        assert_eq!(
            linkify("See https://example.org/a?b=1. Or (http://x.example)!"),
            vec![
                TextPiece::Text("See ".into()),
                TextPiece::Link("https://example.org/a?b=1".into()),
                TextPiece::Text(". Or (".into()),
                TextPiece::Link("http://x.example".into()),
                TextPiece::Text(")!".into()),
            ]
        );
        assert_eq!(
            linkify("javascript:alert(1) and https:// alone"),
            vec![TextPiece::Text(
                "javascript:alert(1) and https:// alone".into()
            )]
        );
        assert_eq!(linkify(""), vec![]);
    }

    #[test]
    fn search_words_are_marked() {
        let words = search_words("Invoice \"march\" -spam or x");
        assert_eq!(words, vec!["invoice", "march", "spam"]);
        let marked = mark("Your INVOICE for March", &words);
        let hits: Vec<&str> = marked
            .iter()
            .filter(|m| m.hit)
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(hits, vec!["INVOICE", "March"]);
        let joined: String = marked.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(joined, "Your INVOICE for March");
    }
}
