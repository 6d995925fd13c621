//! Identity: organizations, users, memberships and roles, and every credential — passwords
//! (argon2id), short-lived access JWTs, rotating refresh tokens, org API tokens, email
//! verification and invitation links. Secrets are shown once and stored only as hashes.
//!
//! Every state change runs in one transaction with its audit event and any outbox rows (mail).

mod email;
mod error;
pub mod jwt;
mod password;
mod role;
mod secret;
mod service;

pub use email::Email;
pub use error::IdentityError;
pub use jwt::{AccessClaims, JwtConfig, JwtKeys};
pub use password::{Password, hash_password, verify_password};
pub use role::{Role, Scope};
pub use secret::{ApiTokenSecret, hash_secret, new_secret};
pub use service::*;
