//! The streaming dot decoder must give the same result however its input is split, and
//! never produce more bytes than it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::pop3::dot::DotDecoder;

fuzz_target!(|input: (u16, Vec<u8>)| {
    let (split, data) = input;
    let mut whole_out = Vec::new();
    let whole = DotDecoder::new().decode(&data, &mut whole_out);
    assert!(whole.consumed <= data.len());
    assert!(whole_out.len() <= whole.consumed);
    if whole.done {
        assert!(data[..whole.consumed].ends_with(b".\r\n"));
    } else {
        assert_eq!(whole.consumed, data.len());
    }

    let split = usize::from(split) % (data.len() + 1);
    let mut decoder = DotDecoder::new();
    let mut out = Vec::new();
    let first = decoder.decode(&data[..split], &mut out);
    let consumed = if first.done {
        first.consumed
    } else {
        split + decoder.decode(&data[split..], &mut out).consumed
    };
    assert_eq!(consumed, whole.consumed);
    assert_eq!(out, whole_out);
});
