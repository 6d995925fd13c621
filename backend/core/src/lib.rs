//! Shared domain types for every Tributary crate.
//!
//! Values with rules are parsed once at the edge into newtypes ([`TopicName`], [`KafkaUsername`],
//! [`Principal`]) and trusted everywhere after.

pub mod crypto;
mod names;

pub use crypto::{CryptoError, SecretBox};
pub use names::{KafkaUsername, NameError, Principal, TopicName};
