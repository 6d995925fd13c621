use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::IdentityError;

/// 32 random bytes, base64url: refresh tokens, verification and invitation links.
pub fn new_secret() -> Result<String, IdentityError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| IdentityError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a high-entropy secret: what the database stores (a slow hash adds nothing for
/// 256-bit random secrets, and lookups stay indexable).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// An org API token: `trb_<prefix>_<secret>`. The prefix identifies the row; only the secret's
/// hash is stored.
pub struct ApiTokenSecret {
    pub prefix: String,
    pub secret: String,
}

impl ApiTokenSecret {
    pub const MARKER: &'static str = "trb_";

    pub fn generate() -> Result<Self, IdentityError> {
        let mut prefix = [0u8; 6];
        getrandom::fill(&mut prefix).map_err(|e| IdentityError::Internal(e.to_string()))?;
        Ok(Self {
            prefix: prefix.iter().map(|b| format!("{b:02x}")).collect(),
            secret: new_secret()?,
        })
    }

    /// The full token as shown (once) to its creator.
    pub fn reveal(&self) -> String {
        format!("{}{}_{}", Self::MARKER, self.prefix, self.secret)
    }

    /// Splits a presented token; `None` when it is not shaped like one of ours.
    pub fn split(token: &str) -> Option<(&str, &str)> {
        let rest = token.strip_prefix(Self::MARKER)?;
        let (prefix, secret) = rest.split_once('_')?;
        (prefix.len() == 12 && !secret.is_empty()).then_some((prefix, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_tokens_round_trip_and_secrets_differ() {
        let token = ApiTokenSecret::generate().expect("token");
        let shown = token.reveal();
        let (prefix, secret) = ApiTokenSecret::split(&shown).expect("splits");
        assert_eq!(prefix, token.prefix);
        assert_eq!(secret, token.secret);
        assert_ne!(new_secret().expect("a"), new_secret().expect("b"));
        assert_eq!(hash_secret("x").len(), 32);
        assert!(ApiTokenSecret::split("trb_short_x").is_none());
        assert!(ApiTokenSecret::split("eyJhbGciOi.jwt").is_none());
    }
}
