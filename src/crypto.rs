//! Secrets: the master key ring, sealing of remote passwords, and user password hashes
//! (DESIGN invariant 4). Knows nothing of the database or HTTP.
//!
//! # Key ring
//! A master key is 32 random bytes, written as standard base64 (`tributary keygen` prints
//! one). A *key ring* is an ordered list of master keys: **the last key seals, every key
//! opens**. Its text form — the content of `TRIBUTARY_MASTER_KEY`, of
//! `TRIBUTARY_MASTER_KEY_FILE` or of `$TRIBUTARY_DATA_DIR/master.key` — is the keys in
//! order, separated by newlines, commas or spaces; lines starting with `#` are comments.
//!
//! A key's id is derived from the key itself (the first 8 bytes of
//! SHA-256(`"tributary-key-id-v1" ‖ key`), as 16 hex digits), so a bare key needs no
//! bookkeeping and an id reveals nothing usable about the key.
//!
//! # Sealed format
//! AES-256-GCM with a fresh random 96-bit nonce per seal. Stored as three values:
//! `key_id` (text), `nonce` (12 bytes) and `ciphertext` (plaintext length + 16-byte tag).
//! The associated data is `"tributary-seal-v1" ‖ 0 ‖ key_id ‖ 0 ‖ binding`, where the
//! binding is chosen by the caller (the account id for a remote password), so a
//! ciphertext copied to another row, or relabelled with another key id, fails to open.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

pub use crate::secret::{Secret, constant_time_eq};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
const KEY_ID_CONTEXT: &[u8] = b"tributary-key-id-v1";
const AAD_CONTEXT: &[u8] = b"tributary-seal-v1";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key text could not be used. Never contains key material.
    #[error("{0}")]
    MalformedKey(String),
    #[error("the credential was sealed with key {0}, which is not in the key ring")]
    UnknownKey(KeyId),
    #[error("a sealed credential failed to open: wrong key, or the data was altered or moved")]
    Open,
    #[error("{path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the system random number generator failed")]
    Random,
    #[error("password hashing failed")]
    PasswordHash,
}

/// Fills a buffer from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// The id of a master key: 16 lowercase hex digits derived from the key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps an id read back from storage.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One 256-bit master key. Wiped on drop; `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    id: KeyId,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Self {
        // An OS without a working random source cannot run us safely at all.
        #[allow(clippy::expect_used)]
        let bytes = random_bytes::<KEY_LEN>().expect("the OS random number generator failed");
        Self::from_bytes(bytes)
    }

    fn from_bytes(mut bytes: [u8; KEY_LEN]) -> Self {
        let key = Zeroizing::new(bytes);
        bytes.zeroize();
        let digest = Sha256::new()
            .chain_update(KEY_ID_CONTEXT)
            .chain_update(key.as_slice())
            .finalize();
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            id: KeyId(id),
            bytes: key,
        }
    }

    /// Parses one base64 key. Errors describe the problem, never the text.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let decoded = Zeroizing::new(BASE64.decode(text.trim()).map_err(|_| {
            CryptoError::MalformedKey(
                "a key is not valid base64 (generate one with `tributary keygen`)".into(),
            )
        })?);
        let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            CryptoError::MalformedKey(format!(
                "a key must decode to {KEY_LEN} bytes, this one has {} (generate one with `tributary keygen`)",
                decoded.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.bytes.as_slice()))
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.bytes))
    }
}

/// A sealed secret as stored. Holds no plaintext; `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: KeyId,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn associated_data(key_id: &KeyId, binding: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_CONTEXT.len() + key_id.0.len() + binding.len() + 2);
    aad.extend_from_slice(AAD_CONTEXT);
    aad.push(0);
    aad.extend_from_slice(key_id.0.as_bytes());
    aad.push(0);
    aad.extend_from_slice(binding);
    aad
}

/// An ordered set of master keys: the last seals, all open.
#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

impl KeyRing {
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::MalformedKey(
                "the key ring holds no key".into(),
            ));
        }
        Ok(Self { keys })
    }

    /// Parses the text form (see the module docs).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let keys = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split([',', ' ', '\t']))
            .filter(|part| !part.trim().is_empty())
            .map(MasterKey::from_base64)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    /// The text form written to key files, with a comment saying how it works.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(
            "# Tributary master key ring: one base64 key per line.\n\
             # The LAST key seals new credentials; every key listed opens them.\n\
             # Losing this file means re-entering every remote account password.\n",
        ));
        for key in &self.keys {
            text.push_str(&key.to_base64());
            text.push('\n');
        }
        text
    }

    pub fn active(&self) -> &MasterKey {
        // `new` guarantees at least one key.
        &self.keys[self.keys.len() - 1]
    }

    pub fn keys(&self) -> &[MasterKey] {
        &self.keys
    }

    pub fn get(&self, id: &KeyId) -> Option<&MasterKey> {
        self.keys.iter().find(|k| &k.id == id)
    }

    /// The same ring with `key` appended as the new sealing key.
    pub fn with_active(&self, key: MasterKey) -> Self {
        let mut keys: Vec<MasterKey> = self
            .keys
            .iter()
            .filter(|k| k.id != key.id)
            .cloned()
            .collect();
        keys.push(key);
        Self { keys }
    }

    /// A ring holding only the active key, once nothing needs the older ones.
    pub fn only_active(&self) -> Self {
        Self {
            keys: vec![self.active().clone()],
        }
    }

    /// Seals `plaintext` under the active key, bound to `binding`.
    pub fn seal(&self, binding: &[u8], plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self.active();
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(plaintext);
        key.cipher()
            .encrypt_in_place(
                &Nonce::from(nonce),
                &associated_data(&key.id, binding),
                &mut buffer,
            )
            .map_err(|_| CryptoError::Open)?;
        Ok(Sealed {
            key_id: key.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext: buffer,
        })
    }

    /// Opens a sealed value that was bound to `binding`.
    pub fn open(&self, binding: &[u8], sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = self
            .get(&sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        let nonce: [u8; NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Open)?;
        let mut buffer = Zeroizing::new(sealed.ciphertext.clone());
        key.cipher()
            .decrypt_in_place(
                &Nonce::from(nonce),
                &associated_data(&key.id, binding),
                &mut *buffer,
            )
            .map_err(|_| CryptoError::Open)?;
        Ok(buffer)
    }

    /// Opens a sealed UTF-8 secret such as a password.
    pub fn open_secret(&self, binding: &[u8], sealed: &Sealed) -> Result<Secret, CryptoError> {
        let bytes = self.open(binding, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Open)?;
        Ok(Secret::new(text))
    }
}

/// Where the key ring is read from.
#[derive(Clone)]
pub enum KeySource {
    /// The ring's text, e.g. from `TRIBUTARY_MASTER_KEY`.
    Text(Zeroizing<String>),
    /// A ring file that must exist (`TRIBUTARY_MASTER_KEY_FILE`, e.g. a Docker secret).
    File(PathBuf),
    /// A ring file created with one fresh key on first use (`$TRIBUTARY_DATA_DIR/master.key`).
    CreateIfMissing(PathBuf),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Text([redacted])"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::CreateIfMissing(path) => f.debug_tuple("CreateIfMissing").field(path).finish(),
        }
    }
}

impl KeySource {
    /// The file behind this source, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Text(_) => None,
            Self::File(path) | Self::CreateIfMissing(path) => Some(path),
        }
    }
}

/// What loading the key ring did, so the caller can announce a new key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileOutcome {
    Read,
    Created,
}

/// The service's key ring, re-read from its file when the file changes so that
/// `tributary rotate-key` run beside a live service takes effect without a restart.
#[derive(Debug)]
pub struct Keys {
    source: KeySource,
    ring: RwLock<Arc<KeyRing>>,
    file_modified: Mutex<Option<SystemTime>>,
}

impl Keys {
    /// Loads the ring, creating the key file where the source allows it.
    pub fn load(source: KeySource) -> Result<(Self, KeyFileOutcome), CryptoError> {
        let (ring, outcome) = match &source {
            KeySource::Text(text) => (KeyRing::parse(text)?, KeyFileOutcome::Read),
            KeySource::File(path) => (read_ring_file(path)?, KeyFileOutcome::Read),
            KeySource::CreateIfMissing(path) => match read_ring_file(path) {
                Err(CryptoError::KeyFile { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    let ring = KeyRing::new(vec![MasterKey::generate()])?;
                    write_ring_file(path, &ring)?;
                    (ring, KeyFileOutcome::Created)
                }
                other => (other?, KeyFileOutcome::Read),
            },
        };
        let modified = source.path().and_then(modified_time);
        Ok((
            Self {
                source,
                ring: RwLock::new(Arc::new(ring)),
                file_modified: Mutex::new(modified),
            },
            outcome,
        ))
    }

    /// A fixed ring, for tests and tools that hold the keys themselves.
    pub fn fixed(ring: KeyRing) -> Self {
        Self {
            source: KeySource::Text(ring.to_file_text()),
            ring: RwLock::new(Arc::new(ring)),
            file_modified: Mutex::new(None),
        }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The current ring, re-read first if its file changed since the last look.
    pub fn current(&self) -> Result<Arc<KeyRing>, CryptoError> {
        self.refresh_if_changed()?;
        Ok(self.snapshot())
    }

    fn snapshot(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn refresh_if_changed(&self) -> Result<(), CryptoError> {
        let Some(path) = self.source.path() else {
            return Ok(());
        };
        let now = modified_time(path);
        let mut seen = match self.file_modified.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if now == *seen {
            return Ok(());
        }
        let ring = read_ring_file(path)?;
        tracing::info!(active_key = %ring.active().id(), keys = ring.keys().len(), "master key ring reloaded");
        *seen = now;
        match self.ring.write() {
            Ok(mut guard) => *guard = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        Ok(())
    }

    pub fn seal(&self, binding: &[u8], plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        self.current()?.seal(binding, plaintext)
    }

    pub fn open_secret(&self, binding: &[u8], sealed: &Sealed) -> Result<Secret, CryptoError> {
        self.current()?.open_secret(binding, sealed)
    }
}

fn modified_time(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_ring_file(path: &Path) -> Result<KeyRing, CryptoError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| CryptoError::KeyFile {
                path: path.to_owned(),
                source,
            })?,
        );
    KeyRing::parse(&text).map_err(|e| CryptoError::MalformedKey(format!("{}: {e}", path.display())))
}

/// Writes the ring atomically (a temporary file renamed over the old one) with mode 0600,
/// so a crash never leaves a half-written key file.
pub fn write_ring_file(path: &Path, ring: &KeyRing) -> Result<(), CryptoError> {
    use std::io::Write as _;
    let io_err = |source| CryptoError::KeyFile {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(io_err)?;
    }
    let temporary = path.with_extension("key.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io_err)?;
    file.write_all(ring.to_file_text().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io_err)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Hashes a user's password with argon2id (default parameters, random salt) into PHC form.
pub fn hash_password(password: &Secret) -> Result<String, CryptoError> {
    use argon2::PasswordHasher as _;
    argon2::Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| CryptoError::PasswordHash)
}

/// Checks a password against a PHC hash. A malformed stored hash counts as a mismatch.
pub fn verify_password(password: &Secret, phc_hash: &str) -> bool {
    use argon2::PasswordVerifier as _;
    argon2::Argon2::default()
        .verify_password(password.expose().as_bytes(), phc_hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ring() -> KeyRing {
        KeyRing::new(vec![MasterKey::generate()]).expect("one key")
    }

    #[test]
    fn seal_then_open_round_trips() {
        let ring = ring();
        let sealed = ring.seal(b"account-1", b"correct horse").expect("seal");
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        assert_eq!(sealed.ciphertext.len(), "correct horse".len() + TAG_LEN);
        assert_ne!(&sealed.ciphertext[..13], b"correct horse");
        let opened = ring.open_secret(b"account-1", &sealed).expect("open");
        assert_eq!(opened.expose(), "correct horse");
    }

    #[test]
    fn no_nonce_repeats_over_100_000_seals() {
        let ring = ring();
        let mut seen = HashSet::with_capacity(100_000);
        for _ in 0..100_000 {
            let sealed = ring.seal(b"a", b"pw").expect("seal");
            assert!(seen.insert(sealed.nonce), "a nonce was repeated");
        }
        assert_eq!(seen.len(), 100_000);
    }

    #[test]
    fn a_wrong_key_fails() {
        let sealed = ring().seal(b"a", b"pw").expect("seal");
        let other = ring();
        assert!(matches!(
            other.open(b"a", &sealed),
            Err(CryptoError::UnknownKey(_))
        ));
        // Even when the id is forged to match, the tag check refuses.
        let forged = Sealed {
            key_id: other.active().id().clone(),
            ..sealed
        };
        assert!(matches!(other.open(b"a", &forged), Err(CryptoError::Open)));
    }

    #[test]
    fn another_binding_fails() {
        let ring = ring();
        let sealed = ring.seal(b"account-1", b"pw").expect("seal");
        assert!(matches!(
            ring.open(b"account-2", &sealed),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn truncated_or_flipped_ciphertext_fails() {
        let ring = ring();
        let sealed = ring.seal(b"a", b"password").expect("seal");
        for cut in 0..sealed.ciphertext.len() {
            let mut s = sealed.clone();
            s.ciphertext.truncate(cut);
            assert!(ring.open(b"a", &s).is_err(), "truncated to {cut} opened");
        }
        for byte in 0..sealed.ciphertext.len() {
            for bit in 0..8 {
                let mut s = sealed.clone();
                s.ciphertext[byte] ^= 1 << bit;
                assert!(ring.open(b"a", &s).is_err(), "flip {byte}/{bit} opened");
            }
        }
        for byte in 0..NONCE_LEN {
            let mut s = sealed.clone();
            s.nonce[byte] ^= 1;
            assert!(ring.open(b"a", &s).is_err(), "nonce flip {byte} opened");
        }
        let mut s = sealed.clone();
        s.nonce.pop();
        assert!(ring.open(b"a", &s).is_err(), "short nonce opened");
    }

    #[test]
    fn ring_text_round_trips_and_the_last_key_seals() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        let text = format!(
            "# comment\n{}\n\n{}\n",
            a.to_base64().as_str(),
            b.to_base64().as_str()
        );
        let ring = KeyRing::parse(&text).expect("parse");
        assert_eq!(ring.keys().len(), 2);
        assert_eq!(ring.active().id(), b.id());
        let again = KeyRing::parse(&ring.to_file_text()).expect("parse own text");
        assert_eq!(again.active().id(), b.id());
        let comma = format!("{},{}", a.to_base64().as_str(), b.to_base64().as_str());
        assert_eq!(KeyRing::parse(&comma).expect("comma list").keys().len(), 2);
        // Old key opens, new key seals.
        let under_a = KeyRing::new(vec![a.clone()])
            .expect("ring")
            .seal(b"x", b"pw")
            .expect("seal");
        assert_eq!(
            ring.open_secret(b"x", &under_a)
                .expect("old key opens")
                .expose(),
            "pw"
        );
        assert_eq!(ring.seal(b"x", b"pw").expect("seal").key_id, *b.id());
    }

    #[test]
    fn key_ids_are_stable_and_distinct() {
        let a = MasterKey::generate();
        let again = MasterKey::from_base64(&a.to_base64()).expect("parse");
        assert_eq!(a.id(), again.id());
        assert_eq!(a.id().as_str().len(), 16);
        assert_ne!(a.id(), MasterKey::generate().id());
    }

    #[test]
    fn malformed_keys_are_explained_without_the_text() {
        for bad in ["", "# only a comment", "!!!!", "c2hvcnQ=", "hunter2hunter2"] {
            let e = KeyRing::parse(bad).expect_err(bad).to_string();
            assert!(!e.is_empty());
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        assert!(!format!("{key:?}").contains(b64.as_str()));
        assert_eq!(
            format!("{:?}", Secret::new("hunter2")),
            "Secret([redacted])"
        );
        let ring = KeyRing::new(vec![key]).expect("ring");
        assert!(!format!("{ring:?}").contains(b64.as_str()));
        assert!(
            !format!("{:?}", KeySource::Text(Zeroizing::new(b64.to_string())))
                .contains(b64.as_str())
        );
    }

    #[test]
    fn user_passwords_hash_with_argon2id() {
        let pw = Secret::new("a long enough password");
        let hash = hash_password(&pw).expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password(&Secret::new("wrong"), &hash));
        assert!(!verify_password(&pw, "not a hash"));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
