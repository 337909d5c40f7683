//! Streaming decoder for a multi-line message body (RETR, TOP): removes the byte-stuffed
//! leading dot (RFC 1939 §3) and finds the terminating `CRLF . CRLF`.
//!
//! The state lives in the decoder, so the input may be split anywhere — mid-line, between
//! CR and LF, inside the terminator. The terminator must be exactly `.` CRLF on a line that
//! itself follows a CRLF (or starts the body): a body containing `\n.\n` with bare line
//! feeds does not end the message. Bytes after the terminator are not consumed; they belong
//! to the next (pipelined) reply.

/// Where the decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line; `after_crlf` says whether the previous line ended in CRLF.
    LineStart {
        after_crlf: bool,
    },
    /// Saw `.` at the start of a line.
    Dot {
        after_crlf: bool,
    },
    /// Saw `.` CR at the start of a line that followed a CRLF: LF would end the body.
    DotCr,
    /// Inside a line; `last_cr` says whether the last byte seen was CR.
    Mid {
        last_cr: bool,
    },
    Done,
}

#[derive(Debug, Clone)]
pub struct DotDecoder {
    state: State,
}

impl Default for DotDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// What one call to [`DotDecoder::decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes used; the rest belongs to whatever follows the body.
    pub consumed: usize,
    /// The terminator was seen.
    pub done: bool,
}

impl DotDecoder {
    pub fn new() -> Self {
        Self {
            // The status line before the body ended the previous line.
            state: State::LineStart { after_crlf: true },
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, appending body bytes to `out`, until the input or the body ends.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Progress {
        self.decode_with(input, |bytes| out.extend_from_slice(bytes))
    }

    /// Decodes `input`, handing body bytes to `emit` in slices — mostly slices of `input`
    /// itself, whole runs of lines at a time, so the common case copies nothing here.
    pub fn decode_with(&mut self, input: &[u8], mut emit: impl FnMut(&[u8])) -> Progress {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::LineStart { after_crlf } => {
                    if input[i] == b'.' {
                        self.state = State::Dot { after_crlf };
                        i += 1;
                    } else {
                        self.state = State::Mid { last_cr: false };
                    }
                }
                State::Dot { after_crlf } => match input[i] {
                    // A stuffed dot: keep one.
                    b'.' => {
                        emit(b".");
                        self.state = State::Mid { last_cr: false };
                        i += 1;
                    }
                    b'\r' if after_crlf => {
                        self.state = State::DotCr;
                        i += 1;
                    }
                    // A lone dot that is not the terminator (unstuffed by a lax server): keep it.
                    _ => {
                        emit(b".");
                        self.state = State::Mid { last_cr: false };
                    }
                },
                State::DotCr => {
                    if input[i] == b'\n' {
                        self.state = State::Done;
                        return Progress {
                            consumed: i + 1,
                            done: true,
                        };
                    }
                    emit(b".\r");
                    self.state = State::Mid { last_cr: true };
                }
                State::Mid { last_cr } => {
                    // Only a line that starts with a dot needs attention, so jump from one
                    // "\n." to the next and hand over everything in between at once.
                    let rest = &input[i..];
                    match memchr::memmem::find(rest, b"\n.") {
                        Some(at) => {
                            emit(&rest[..=at]);
                            let before_lf = if at > 0 {
                                rest[at - 1] == b'\r'
                            } else {
                                last_cr
                            };
                            self.state = State::LineStart {
                                after_crlf: before_lf,
                            };
                            i += at + 1;
                        }
                        None => {
                            // The chunk may end in "\n" with the dot still to come.
                            emit(rest);
                            self.state = match rest.last() {
                                Some(b'\n') => State::LineStart {
                                    after_crlf: rest.len() >= 2 && rest[rest.len() - 2] == b'\r'
                                        || rest.len() == 1 && last_cr,
                                },
                                last => State::Mid {
                                    last_cr: last == Some(&b'\r'),
                                },
                            };
                            i = input.len();
                        }
                    }
                }
            }
        }
        Progress {
            consumed: i,
            done: self.state == State::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `wire` split at every position (and byte by byte); all must agree.
    fn decode_all_splits(wire: &[u8]) -> (Vec<u8>, usize) {
        let whole = {
            let mut d = DotDecoder::new();
            let mut out = Vec::new();
            let p = d.decode(wire, &mut out);
            assert!(
                p.done,
                "no terminator in {:?}",
                String::from_utf8_lossy(wire)
            );
            (out, p.consumed)
        };
        for split in 0..=wire.len() {
            let mut d = DotDecoder::new();
            let mut out = Vec::new();
            let first = d.decode(&wire[..split], &mut out);
            let consumed = if first.done {
                first.consumed
            } else {
                assert_eq!(first.consumed, split);
                let second = d.decode(&wire[split..], &mut out);
                assert!(second.done);
                split + second.consumed
            };
            assert_eq!((out.clone(), consumed), whole, "split at {split}");
        }
        let mut d = DotDecoder::new();
        let mut out = Vec::new();
        let mut consumed = 0;
        for byte in wire {
            if d.is_done() {
                break;
            }
            consumed += d.decode(std::slice::from_ref(byte), &mut out).consumed;
        }
        assert_eq!((out, consumed), whole, "byte by byte");
        whole
    }

    #[test]
    fn byte_exact_table() {
        let cases: &[(&[u8], &[u8])] = &[
            (b".\r\n", b""),
            (b"a\r\n.\r\n", b"a\r\n"),
            (b"..\r\n.\r\n", b".\r\n"),
            (b"..leading dot\r\n.\r\n", b".leading dot\r\n"),
            (b"a\r\n...\r\n.\r\n", b"a\r\n..\r\n"),
            (b"mid.dle\r\n.\r\n", b"mid.dle\r\n"),
            // Bare LF line endings are kept as they are.
            (b"a\nb\n\r\n.\r\n", b"a\nb\n\r\n"),
            // `\n.\n` with bare LFs is content, not the end.
            (b"x\n.\nmore\r\n.\r\n", b"x\n.\nmore\r\n"),
            // A dot line ended by bare LF after a CRLF line is content too.
            (b"x\r\n.\nmore\r\n.\r\n", b"x\r\n.\nmore\r\n"),
            // `.` CR not followed by LF is content.
            (b"x\r\n.\rmore\r\n.\r\n", b"x\r\n.\rmore\r\n"),
            // A dot line after a bare-LF line ending is not the terminator.
            (b"x\n.\r\nstill\r\n.\r\n", b"x\n.\r\nstill\r\n"),
            (b"nul\0byte\r\n.\r\n", b"nul\0byte\r\n"),
            (b"cr\r\r\n.\r\n", b"cr\r\r\n"),
        ];
        for (wire, body) in cases {
            let (out, consumed) = decode_all_splits(wire);
            assert_eq!(out, *body, "{:?}", String::from_utf8_lossy(wire));
            assert_eq!(consumed, wire.len());
        }
    }

    #[test]
    fn bytes_after_the_terminator_are_left_for_the_next_reply() {
        let wire = b"body\r\n.\r\n+OK next\r\n";
        let (out, consumed) = decode_all_splits(wire);
        assert_eq!(out, b"body\r\n");
        assert_eq!(&wire[consumed..], b"+OK next\r\n");
    }

    #[test]
    fn an_unfinished_body_is_not_done() {
        let mut d = DotDecoder::new();
        let mut out = Vec::new();
        let p = d.decode(b"line\r\n.", &mut out);
        assert_eq!(
            p,
            Progress {
                consumed: 7,
                done: false
            }
        );
        assert_eq!(out, b"line\r\n");
        let p = d.decode(b"\r", &mut out);
        assert!(!p.done);
        let p = d.decode(b"\n", &mut out);
        assert!(p.done);
        assert_eq!(out, b"line\r\n");
    }
}
