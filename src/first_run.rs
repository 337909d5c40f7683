//! First run: while no user exists, whoever can read the server's log — where a one-time
//! setup code is printed — creates the administrator (the web's `/setup`). A stranger who
//! finds a freshly exposed instance cannot claim it without that code.

use std::sync::Mutex;

use crate::crypto::{self, Secret};

/// Letters and digits that cannot be mistaken for one another when copied from a log.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// 12 symbols of 31: about 59 bits, far beyond guessing over HTTP.
const CODE_SYMBOLS: usize = 12;

/// Holds the setup code while set-up is open.
#[derive(Debug, Default)]
pub struct SetupGate {
    code: Mutex<Option<Secret>>,
}

impl SetupGate {
    /// Opens set-up with a fresh code, returned for the log.
    pub fn open() -> Result<(Self, String), crypto::CryptoError> {
        let code = generate_code()?;
        let gate = Self {
            code: Mutex::new(Some(Secret::new(code.clone()))),
        };
        Ok((gate, code))
    }

    pub fn closed() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Secret>> {
        match self.code.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.lock().is_some()
    }

    pub fn accepts(&self, typed: &str) -> bool {
        match &*self.lock() {
            Some(code) => crypto::constant_time_eq(
                normalize_code(code.expose()).as_bytes(),
                normalize_code(typed).as_bytes(),
            ),
            None => false,
        }
    }

    pub fn close(&self) {
        *self.lock() = None;
    }
}

fn generate_code() -> Result<String, crypto::CryptoError> {
    let random = crypto::random_bytes::<CODE_SYMBOLS>()?;
    let mut code = String::with_capacity(CODE_SYMBOLS + 2);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        // 256 % 31 leaves a bias of under 1% per symbol: irrelevant at 59 bits.
        code.push(char::from(
            CODE_ALPHABET[usize::from(*byte) % CODE_ALPHABET.len()],
        ));
    }
    Ok(code)
}

/// People type codes with spaces, lower case or without the dashes.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_accepted_loosely() {
        let (gate, code) = SetupGate::open().expect("code");
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(gate.accepts(&code));
        assert!(gate.accepts(&code.to_lowercase().replace('-', " ")));
        assert!(!gate.accepts("AAAA-AAAA-AAAA"));
        assert!(!gate.accepts(""));
        gate.close();
        assert!(!gate.accepts(&code));
    }
}
