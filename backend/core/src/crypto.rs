//! Secrets at rest (cluster SASL passwords, later provider payout keys): XChaCha20-Poly1305 with
//! keys from configuration. A sealed value names its key, so keys rotate: the first key seals,
//! every configured key opens.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("{0}")]
    InvalidKeys(String),
    #[error("the sealed value is not in the `<key id>:<base64>` format")]
    Malformed,
    #[error("no configured key has the id `{0}`")]
    UnknownKey(String),
    #[error("the sealed value does not open with its key (wrong key or tampered data)")]
    Tampered,
    #[error("no randomness available: {0}")]
    Random(String),
}

/// The configured encryption keys; the first one seals.
#[derive(Clone)]
pub struct SecretBox {
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("SecretBox").field("key_ids", &ids).finish()
    }
}

const NONCE_LEN: usize = 24;

impl SecretBox {
    /// Parses `kid=<key>[,kid=<key>…]`, each key 32 bytes as base64 or as 64 hex digits.
    pub fn parse(spec: &str) -> Result<Self, CryptoError> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part.split_once('=').ok_or_else(|| {
                CryptoError::InvalidKeys("each key must be `kid=<base64 of 32 bytes>`".into())
            })?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CryptoError::InvalidKeys(
                    "key ids are letters, digits, `-` and `_`".into(),
                ));
            }
            if keys.iter().any(|(k, _): &(String, _)| k == id) {
                return Err(CryptoError::InvalidKeys(format!(
                    "key id `{id}` appears twice"
                )));
            }
            let key = key.trim();
            let bytes = if key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()) {
                (0..32)
                    .map(|i| u8::from_str_radix(&key[2 * i..2 * i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| CryptoError::InvalidKeys(format!("key `{id}` is not valid hex")))?
            } else {
                STANDARD.decode(key).map_err(|_| {
                    CryptoError::InvalidKeys(format!(
                        "key `{id}` is neither base64 nor 64 hex digits"
                    ))
                })?
            };
            if bytes.len() != 32 {
                return Err(CryptoError::InvalidKeys(format!(
                    "key `{id}` must decode to exactly 32 bytes, not {}",
                    bytes.len()
                )));
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| CryptoError::InvalidKeys(format!("key `{id}` is unusable")))?;
            keys.push((id.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err(CryptoError::InvalidKeys(
                "at least one key is required".into(),
            ));
        }
        Ok(Self { keys })
    }

    /// A new random key in the configuration format, e.g. for development stacks.
    pub fn generate_spec(id: &str) -> Result<String, CryptoError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| CryptoError::Random(e.to_string()))?;
        Ok(format!("{id}={}", STANDARD.encode(key)))
    }

    /// Encrypts `plain`; `context` (e.g. the row id) is authenticated, so a sealed value copied
    /// to another row does not open there.
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, CryptoError> {
        let (id, cipher) = self
            .keys
            .first()
            .ok_or_else(|| CryptoError::InvalidKeys("no key".into()))?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| CryptoError::Random(e.to_string()))?;
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{id}:{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        let (id, data) = sealed.split_once(':').ok_or(CryptoError::Malformed)?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let bytes = STANDARD.decode(data).map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Tampered)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys(spec: &str) -> SecretBox {
        SecretBox::parse(spec).unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_context_only() {
        let b = keys(&SecretBox::generate_spec("k1").unwrap());
        let sealed = b.seal("hunter2", "cluster:1").unwrap();
        assert!(sealed.starts_with("k1:"));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(b.open(&sealed, "cluster:1").unwrap(), "hunter2");
        assert_eq!(b.open(&sealed, "cluster:2"), Err(CryptoError::Tampered));
        // Two seals of the same value differ (random nonce).
        assert_ne!(sealed, b.seal("hunter2", "cluster:1").unwrap());
    }

    #[test]
    fn keys_rotate_old_values_still_open() {
        let old = SecretBox::generate_spec("old").unwrap();
        let new = SecretBox::generate_spec("new").unwrap();
        let sealed = keys(&old).seal("s", "c").unwrap();
        let rotated = keys(&format!("{new},{old}"));
        assert_eq!(rotated.open(&sealed, "c").unwrap(), "s");
        assert!(rotated.seal("s", "c").unwrap().starts_with("new:"));
        assert_eq!(
            keys(&new).open(&sealed, "c"),
            Err(CryptoError::UnknownKey("old".into()))
        );
    }

    #[test]
    fn tampering_and_bad_configuration_are_refused() {
        let b = keys(&SecretBox::generate_spec("k").unwrap());
        let mut sealed = b.seal("secret", "c").unwrap();
        let last = sealed.pop().unwrap();
        sealed.push(if last == 'A' { 'B' } else { 'A' });
        assert!(b.open(&sealed, "c").is_err());
        assert_eq!(b.open("nocolon", "c"), Err(CryptoError::Malformed));
        assert!(SecretBox::parse("").is_err());
        assert!(SecretBox::parse("k=c2hvcnQ=").is_err());
        assert!(SecretBox::parse("k=!!!").is_err());
        let hex = "00".repeat(32);
        let from_hex = keys(&format!("h={hex}"));
        let from_b64 = keys("h=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(
            from_b64
                .open(&from_hex.seal("x", "c").unwrap(), "c")
                .unwrap(),
            "x"
        );
        let spec = SecretBox::generate_spec("a").unwrap();
        assert!(SecretBox::parse(&format!("{spec},{spec}")).is_err());
    }
}
