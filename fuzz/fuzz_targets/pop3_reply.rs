//! Every parser of server lines must return, never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::pop3::response::{self, Capabilities};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    for line in &lines {
        if let Ok(response::Reply::Ok(text)) = response::parse_reply(line) {
            let _ = response::apop_timestamp(&text);
        }
        let _ = response::parse_list_entry(line);
        if let Ok((_, uid)) = response::parse_uidl_entry(line) {
            assert!(!uid.is_empty() && uid.len() <= response::MAX_UIDL_LEN);
        }
    }
    let caps = Capabilities::parse(lines.iter().copied());
    assert!(caps.lines.iter().all(|l| !l.contains(['\r', '\n', '\0'])));
});
