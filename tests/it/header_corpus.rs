//! Header decoding measured on the generated benchmark mailbox (bench/genmail.py, with the
//! forms real mailers write): no subject or sender name may hold U+FFFD where Python's
//! `email.header` decodes it cleanly, and where it does both must read the same text.

use std::process::Command;

const MESSAGES: &str = "500";
const REPLACEMENT: char = '\u{FFFD}';

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn no_replacement_characters_where_python_decodes_cleanly() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = crate::helpers::TempDir::new();
    let made = Command::new("python3")
        .arg(format!("{root}/bench/genmail.py"))
        .arg(dir.path())
        .arg(MESSAGES)
        .output()
        .expect("python3 runs");
    assert!(made.status.success(), "{made:?}");
    let oracle = Command::new("python3")
        .arg(format!("{root}/tests/header_oracle.py"))
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(oracle.status.success(), "{oracle:?}");

    let (mut before, mut after, mut python, mut checked, mut encoded) = (0, 0, 0, 0, 0);
    for line in String::from_utf8(oracle.stdout).expect("utf-8").lines() {
        let expected: serde_json::Value = serde_json::from_str(line).expect("json");
        let file = expected["file"].as_str().expect("file");
        let raw = std::fs::read(dir.path().join("new").join(file)).expect("message");
        let ours = tributary::mail::fields::parse(&raw);
        let plain = mail_parser::MessageParser::default()
            .parse_headers(&raw)
            .expect("headers");
        let plain_name = plain
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            .map(str::to_owned);
        let header = String::from_utf8_lossy(&raw[..raw.len().min(2_000)]).into_owned();
        if header.contains("=?") && header.contains("?=") {
            encoded += 1;
        }
        for (field, ours, plain) in [
            (
                "subject",
                ours.subject.clone(),
                plain.subject().map(str::to_owned),
            ),
            ("from_name", ours.from_name.clone(), plain_name),
        ] {
            let theirs = expected[field].as_str();
            before += usize::from(plain.is_some_and(|p| p.contains(REPLACEMENT)));
            after += usize::from(ours.as_ref().is_some_and(|o| o.contains(REPLACEMENT)));
            python += usize::from(theirs.is_some_and(|t| t.contains(REPLACEMENT)));
            // Python reads ISO-8859-1 literally, so windows-1252 text labelled so comes out
            // as invisible C1 controls; mail programs (and Tributary) show the characters.
            let clean = |t: &&str| !t.contains(REPLACEMENT) && !t.chars().any(char::is_control);
            let Some(theirs) = theirs.filter(clean) else {
                continue;
            };
            let ours = ours.unwrap_or_default();
            assert!(
                !ours.contains(REPLACEMENT),
                "{file} {field}: ours {ours:?}, Python {theirs:?}"
            );
            assert_eq!(words(&ours), words(theirs), "{file} {field}");
            checked += 1;
        }
    }
    println!(
        "{MESSAGES} messages, {encoded} with encoded-words, {checked} fields compared with \
         Python: U+FFFD in mail-parser alone {before}, in Tributary {after}, in Python {python}"
    );
    assert_eq!(after, 0);
    assert!(
        before > 0,
        "the corpus holds the forms that broke mail-parser"
    );
    assert!(checked >= 900, "{checked}");
}
