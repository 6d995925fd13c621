use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use secrecy::{ExposeSecret, SecretString};

use crate::IdentityError;

/// A password that passed the policy: 12–256 characters, not only one kind of character, not a
/// well-known password, and not containing the account's email name.
pub struct Password(SecretString);

const COMMON: [&str; 12] = [
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "passwordpassword",
    "iloveyou1234",
    "letmein12345",
    "administrator",
    "welcome12345",
    "changeme1234",
    "tributary123",
    "qwerty123456",
    "abc123456789",
];

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 256;

    pub fn parse(raw: &str, email_local_part: &str) -> Result<Self, IdentityError> {
        let weak = |m: &str| IdentityError::validation("password", m.to_owned());
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(weak("must be at least 12 characters"));
        }
        if len > Self::MAX_LEN {
            return Err(weak("must be at most 256 characters"));
        }
        let lower = raw.to_lowercase();
        if COMMON.contains(&lower.as_str()) {
            return Err(weak("is a well-known password"));
        }
        let distinct = {
            let mut chars: Vec<char> = raw.chars().collect();
            chars.sort_unstable();
            chars.dedup();
            chars.len()
        };
        if distinct < 5 {
            return Err(weak("must use more different characters"));
        }
        if email_local_part.len() >= 4 && lower.contains(&email_local_part.to_lowercase()) {
            return Err(weak("must not contain your email address"));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

fn argon2() -> Argon2<'static> {
    // argon2id, version 0x13, OWASP's recommended m=19 MiB, t=2, p=1 (the crate's defaults).
    Argon2::default()
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, IdentityError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| IdentityError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| IdentityError::Internal(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Internal(e.to_string()))
}

/// Checks a password against a stored hash; malformed hashes never verify.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A fixed hash checked when no account matches, so sign-in takes as long either way
/// (no account enumeration through timing).
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("dummy-password-for-timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_weak_passwords() {
        for (pw, why) in [
            ("short", "at least 12"),
            ("password1234", "well-known"),
            ("aaaaaaaaaaaaaaaa", "different characters"),
            ("ada.lovelace-2026!", "email"),
        ] {
            let err = Password::parse(pw, "ada.lovelace").err().expect(pw);
            assert!(err.to_string().contains(why), "{pw}: {err}");
        }
        assert!(Password::parse(&"x1".repeat(200), "ada").is_err());
        assert!(Password::parse("correct horse battery staple", "ada").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery staple").expect("hash");
        let b = hash_password("correct horse battery staple").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "random salt");
        assert!(verify_password("correct horse battery staple", &a));
        assert!(!verify_password("wrong horse battery staple", &a));
        assert!(!verify_password("anything", "not-a-hash"));
    }
}
