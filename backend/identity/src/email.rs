use std::fmt;

use crate::IdentityError;

/// An email address, trimmed and lower-cased, with a plausible shape (one `@`, a dotted domain of
/// valid labels). Deliverability is proven by the verification link, not here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let value = raw.trim().to_lowercase();
        let invalid = |reason: &str| IdentityError::Validation {
            field: "email",
            message: format!("is not a valid email address ({reason})"),
        };
        if value.is_empty() {
            return Err(invalid("empty"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(invalid("too long"));
        }
        let (local, domain) = value.split_once('@').ok_or_else(|| invalid("no @"))?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(invalid("bad local part"));
        }
        if local.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                )
        }) {
            return Err(invalid("bad local part"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("bad domain"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_accepts_plausible_addresses() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").expect("valid").as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("first.last+tag@sub.example.co").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
            "<a>@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
