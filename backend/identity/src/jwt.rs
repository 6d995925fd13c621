//! Access tokens: JWTs signed with HS256 (the only algorithm accepted), carrying `iss`, `aud`,
//! `sub`, `iat`, `nbf`, `exp` and the refresh-token family (`sid`) so signing out ends them.
//! Keys rotate by `kid`: the first key signs, every configured key verifies.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::IdentityError;

/// The one algorithm Tributary signs and accepts.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Signing keys by id; the first one signs new tokens.
#[derive(Clone)]
pub struct JwtKeys {
    keys: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("JwtKeys")
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Minimum key length for HS256 (RFC 7518 §3.2: at least the hash size).
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Parses `kid=secret[,kid=secret…]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, secret) = part.split_once('=').ok_or("each key must be kid=secret")?;
            let kid = kid.trim();
            if kid.is_empty()
                || !kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "key id {kid:?} must be letters, digits, '-' or '_'"
                ));
            }
            if secret.len() < Self::MIN_SECRET_BYTES {
                return Err(format!(
                    "key {kid:?} must be at least {} bytes",
                    Self::MIN_SECRET_BYTES
                ));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(format!("key id {kid:?} appears twice"));
            }
            keys.push((kid.to_owned(), SecretString::from(secret.to_owned())));
        }
        if keys.is_empty() {
            return Err("at least one key is required".into());
        }
        Ok(Self { keys })
    }

    fn signing(&self) -> (&str, &SecretString) {
        let (kid, secret) = &self.keys[0];
        (kid, secret)
    }

    fn by_kid(&self, kid: &str) -> Option<&SecretString> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, s)| s)
    }
}

/// Issuer, audience, lifetimes and keys.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub keys: JwtKeys,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The refresh-token family (the session); revoked families end their access tokens too.
    pub sid: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

impl JwtConfig {
    /// Signs an access token for a user's session; returns it with its expiry (unix seconds).
    pub fn issue(&self, user_id: Uuid, session: Uuid) -> Result<(String, i64), IdentityError> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(900);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session,
            iat: now,
            nbf: now,
            exp: now + ttl,
        };
        let (kid, secret) = self.keys.signing();
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(kid.to_owned());
        let token = encode(
            &header,
            &claims,
            &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
        )
        .map_err(|e| IdentityError::Internal(e.to_string()))?;
        Ok((token, claims.exp))
    }

    /// Verifies signature (by `kid`), algorithm, issuer, audience, `exp` and `nbf`.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, IdentityError> {
        let header = decode_header(token).map_err(|_| IdentityError::InvalidToken)?;
        if header.alg != ALGORITHM {
            return Err(IdentityError::InvalidToken);
        }
        let kid = header.kid.ok_or(IdentityError::InvalidToken)?;
        let secret = self.keys.by_kid(&kid).ok_or(IdentityError::InvalidToken)?;
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        decode::<AccessClaims>(
            token,
            &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            &validation,
        )
        .map(|data| data.claims)
        .map_err(|_| IdentityError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(keys: &str) -> JwtConfig {
        JwtConfig {
            keys: JwtKeys::parse(keys).expect("keys"),
            issuer: "tributary".into(),
            audience: "tributary-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
        }
    }

    const K1: &str = "k1=0123456789abcdef0123456789abcdef";
    const K2: &str = "k2=fedcba9876543210fedcba9876543210";

    #[test]
    fn issued_tokens_verify_and_carry_the_session() {
        let c = config(K1);
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let (token, exp) = c.issue(user, session).expect("issue");
        let claims = c.verify(&token).expect("verify");
        assert_eq!((claims.sub, claims.sid, claims.exp), (user, session, exp));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_until_their_key_is_removed() {
        let old = config(K1);
        let (token, _) = old.issue(Uuid::new_v4(), Uuid::new_v4()).expect("issue");
        let rotated = config(&format!("{K2},{K1}"));
        assert!(rotated.verify(&token).is_ok(), "old kid still verifies");
        let retired = config(K2);
        assert!(
            retired.verify(&token).is_err(),
            "removed kid no longer verifies"
        );
    }

    #[test]
    fn wrong_audience_issuer_tampering_and_expiry_are_refused() {
        let c = config(K1);
        let (token, _) = c.issue(Uuid::new_v4(), Uuid::new_v4()).expect("issue");
        let mut other_aud = config(K1);
        other_aud.audience = "someone-else".into();
        assert!(other_aud.verify(&token).is_err());
        let mut other_iss = config(K1);
        other_iss.issuer = "evil".into();
        assert!(other_iss.verify(&token).is_err());

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        assert!(c.verify(&parts.join(".")).is_err(), "tampered signature");

        let mut expired = config(K1);
        expired.access_ttl = Duration::ZERO;
        let (token, _) = expired
            .issue(Uuid::new_v4(), Uuid::new_v4())
            .expect("issue");
        // exp = now; with 5 s leeway it is still valid, so forge an older one instead.
        let claims = AccessClaims {
            iss: "tributary".into(),
            aud: "tributary-api".into(),
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat: 1,
            nbf: 1,
            exp: 2,
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some("k1".into());
        let old = encode(
            &header,
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("encode");
        assert!(c.verify(&old).is_err(), "expired");
        assert!(c.verify(&token).is_ok());
    }

    #[test]
    fn other_algorithms_and_missing_kid_are_refused() {
        let c = config(K1);
        let claims = serde_json::json!({"iss":"tributary","aud":"tributary-api","sub":Uuid::new_v4(),"sid":Uuid::new_v4(),"iat":0,"nbf":0,"exp":i64::MAX / 2});
        let mut hs512 = Header::new(Algorithm::HS512);
        hs512.kid = Some("k1".into());
        let token = encode(
            &hs512,
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("encode");
        assert!(c.verify(&token).is_err(), "HS512 is not accepted");
        let no_kid = encode(
            &Header::new(ALGORITHM),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("encode");
        assert!(c.verify(&no_kid).is_err(), "kid is required");
        assert!(c.verify("not.a.jwt").is_err());
    }

    #[test]
    fn key_specs_are_validated() {
        assert!(JwtKeys::parse("").is_err());
        assert!(JwtKeys::parse("k1=short").is_err());
        assert!(JwtKeys::parse("no-equals-sign").is_err());
        assert!(JwtKeys::parse(&format!("{K1},{K1}")).is_err());
        assert!(JwtKeys::parse(&format!("{K1}, {K2}")).is_ok());
    }
}
