//! Field classification paths and the redaction of `pii` fields from decoded samples.
//!
//! A path is field names joined by `.`, matched from the top of the message key and value:
//! - `customer.email`: that field (arrays are looked through, and so are maps: the keys of an
//!   Avro `map`, a Protobuf `map<>` or JSON `additionalProperties` are data, not fields);
//! - `*` stands for any one field name (`*.email`: an `email` one level down);
//! - `**` for any number of levels, none included (`**.email`: every `email`, at any depth,
//!   through recursive types too);
//! - `@key` / `@value` as the first segment limits a path to the message key or value; alone,
//!   it names the whole key or value, whatever its shape (a string key: `@key`). Paths without
//!   it apply to both.

use serde_json::Value;
use tributary_registry::{Datum, KeyRole};

/// What replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// Longest classification path.
const MAX_PATH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    /// `*`: one field name.
    Any,
    /// `**`: any number of field names.
    AnyDepth,
}

/// Which part of a message a path applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Key,
    Value,
}

/// A parsed classification path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    part: Option<Part>,
    segments: Vec<Segment>,
}

/// Parses (and so validates) a classification path; the error says what is wrong.
pub(crate) fn parse_path(raw: &str) -> Result<FieldPath, String> {
    let path = raw.trim();
    if path.is_empty() || path.len() > MAX_PATH {
        return Err(format!("a field path has 1 to {MAX_PATH} characters"));
    }
    let mut parts = path.split('.').peekable();
    let part = match parts.peek().copied() {
        Some("@key") => Some(Part::Key),
        Some("@value") => Some(Part::Value),
        _ => None,
    };
    if part.is_some() {
        parts.next();
    }
    let mut segments = Vec::new();
    for name in parts {
        segments.push(match name {
            "*" => Segment::Any,
            "**" => Segment::AnyDepth,
            "" => return Err(format!("`{path}` has an empty field name")),
            n if n.starts_with('@') => {
                return Err(format!(
                    "`{path}`: `@key` and `@value` may only start a path"
                ));
            }
            n if n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Segment::Name(n.to_owned())
            }
            n => {
                return Err(format!(
                    "`{path}`: `{n}` is not a field name (letters, digits, `_`, `-`), `*` or `**`"
                ));
            }
        });
    }
    if segments.last() == Some(&Segment::AnyDepth) {
        return Err(format!(
            "`{path}` ends with `**`: name the field (`**.email`) or the whole part (`@key`)"
        ));
    }
    Ok(FieldPath { part, segments })
}

/// The redaction of one part (key or value) of every sample of a stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    patterns: Vec<Vec<Segment>>,
    /// The whole part is classified.
    whole: bool,
}

/// A position in a pattern: (pattern, next segment).
type State = (usize, usize);

impl Redactor {
    /// The `pii` paths that apply to the key (`key`) or the value; paths that do not parse
    /// (stored before validation) are ignored.
    pub(crate) fn for_part(pii: &[String], key: bool) -> Self {
        let wanted = if key { Part::Key } else { Part::Value };
        let mut out = Self::default();
        for path in pii.iter().filter_map(|p| parse_path(p).ok()) {
            if path.part.is_some_and(|p| p != wanted) {
                continue;
            }
            if path.segments.is_empty() {
                out.whole = true;
            } else {
                out.patterns.push(path.segments);
            }
        }
        out
    }

    /// Whether any classification applies to this part.
    pub(crate) fn classifies(&self) -> bool {
        self.whole || !self.patterns.is_empty()
    }

    /// Whether the whole part is classified.
    pub(crate) fn whole(&self) -> bool {
        self.whole
    }

    /// The part as JSON, with every classified field replaced by [`REDACTED`].
    pub(crate) fn redact(&self, datum: Datum) -> Value {
        if self.whole {
            return Value::String(REDACTED.into());
        }
        let mut start: Vec<State> = (0..self.patterns.len()).map(|p| (p, 0)).collect();
        self.close(&mut start);
        self.walk(datum, &start)
    }

    /// Adds the states `**` reaches without taking a name.
    fn close(&self, states: &mut Vec<State>) {
        let mut i = 0;
        while i < states.len() {
            let (p, at) = states[i];
            if self.patterns[p].get(at) == Some(&Segment::AnyDepth)
                && !states.contains(&(p, at + 1))
            {
                states.push((p, at + 1));
            }
            i += 1;
        }
        states.sort_unstable();
        states.dedup();
    }

    /// The states after the field `name`, and whether a pattern ends there.
    fn step(&self, states: &[State], name: &str) -> (Vec<State>, bool) {
        let mut next = Vec::new();
        for &(p, at) in states {
            match self.patterns[p].get(at) {
                Some(Segment::Name(n)) if n == name => next.push((p, at + 1)),
                Some(Segment::Any) => next.push((p, at + 1)),
                Some(Segment::AnyDepth) => next.push((p, at)),
                _ => {}
            }
        }
        self.close(&mut next);
        let done = next.iter().any(|&(p, at)| at == self.patterns[p].len());
        (next, done)
    }

    fn walk(&self, datum: Datum, states: &[State]) -> Value {
        if states.is_empty() {
            return datum.into_json();
        }
        match datum {
            Datum::Scalar(v) => v,
            Datum::List(items) => {
                Value::Array(items.into_iter().map(|d| self.walk(d, states)).collect())
            }
            Datum::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|entry| {
                        let (next, done) = match entry.role {
                            KeyRole::Field => self.step(states, &entry.key),
                            // A map key is data: the path goes on in the map's values.
                            KeyRole::MapKey => (states.to_vec(), false),
                            // Either: both readings apply.
                            KeyRole::Unknown => {
                                let (mut next, done) = self.step(states, &entry.key);
                                next.extend_from_slice(states);
                                next.sort_unstable();
                                next.dedup();
                                (next, done)
                            }
                        };
                        let value = if done {
                            Value::String(REDACTED.into())
                        } else {
                            self.walk(entry.value, &next)
                        };
                        (entry.key, value)
                    })
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;
    use tributary_registry::Entry;

    use super::*;

    fn redact(value: Value, paths: &[&str]) -> Value {
        let pii: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        Redactor::for_part(&pii, false).redact(Datum::from_plain_json(value))
    }

    #[test]
    fn classified_paths_are_redacted_through_objects_and_arrays() {
        let v = redact(
            json!({
                "email": "a@b.c",
                "customer": { "name": "Ada", "email": "ada@example.com" },
                "lines": [{ "card": "4111" }, { "card": "5500", "sku": "x" }],
                "amount": 12
            }),
            &["email", "customer.email", "lines.card", "missing.path"],
        );
        assert_eq!(v["email"], REDACTED);
        assert_eq!(v["customer"]["email"], REDACTED);
        assert_eq!(v["customer"]["name"], "Ada");
        assert_eq!(v["lines"][0]["card"], REDACTED);
        assert_eq!(v["lines"][1]["card"], REDACTED);
        assert_eq!(v["lines"][1]["sku"], "x");
        assert_eq!(v["amount"], 12);
    }

    #[test]
    fn wildcards_name_every_occurrence_at_any_depth() {
        let doc = json!({
            "email": "top",
            "a": { "email": "one", "b": { "email": "two", "c": [{ "email": "three" }] } },
            "other": "kept"
        });
        let v = redact(doc.clone(), &["**.email"]);
        assert_eq!(v["email"], REDACTED);
        assert_eq!(v["a"]["email"], REDACTED);
        assert_eq!(v["a"]["b"]["email"], REDACTED);
        assert_eq!(v["a"]["b"]["c"][0]["email"], REDACTED);
        assert_eq!(v["other"], "kept");
        let v = redact(doc.clone(), &["*.email"]);
        assert_eq!(v["email"], "top");
        assert_eq!(v["a"]["email"], REDACTED);
        assert_eq!(v["a"]["b"]["email"], "two");
        let v = redact(doc, &["a.**.email"]);
        assert_eq!(
            (v["email"].as_str(), v["a"]["email"].as_str()),
            (Some("top"), Some(REDACTED))
        );
        assert_eq!(v["a"]["b"]["c"][0]["email"], REDACTED);
    }

    #[test]
    fn map_values_are_redacted_through_their_keys() {
        // {"contacts": {"home": {"email": ...}, "email": {"email": ..., "city": ...}}} where
        // `contacts` is a map: its keys are data, even one that looks like the field.
        let entry = |key: &str, role, value| Entry {
            key: key.into(),
            role,
            value,
        };
        let contact = |email: &str| {
            Datum::Object(vec![
                entry("email", KeyRole::Field, Datum::Scalar(json!(email))),
                entry("city", KeyRole::Field, Datum::Scalar(json!("Oslo"))),
            ])
        };
        let datum = Datum::Object(vec![entry(
            "contacts",
            KeyRole::Field,
            Datum::Object(vec![
                entry("home", KeyRole::MapKey, contact("a@b")),
                entry("email", KeyRole::MapKey, contact("c@d")),
            ]),
        )]);
        let v = Redactor::for_part(&["contacts.email".into()], true).redact(datum.clone());
        assert_eq!(v["contacts"]["home"]["email"], REDACTED);
        assert_eq!(v["contacts"]["email"]["email"], REDACTED);
        assert_eq!(v["contacts"]["email"]["city"], "Oslo");
        // Keys of unknown role are read both ways.
        let unknown = Datum::Object(vec![entry(
            "extra",
            KeyRole::Unknown,
            Datum::Object(vec![entry(
                "email",
                KeyRole::Unknown,
                Datum::Scalar(json!("x")),
            )]),
        )]);
        let v = Redactor::for_part(&["email".into()], false).redact(unknown);
        assert_eq!(v["extra"]["email"], REDACTED);
    }

    #[test]
    fn key_and_value_paths_and_whole_parts() {
        let pii: Vec<String> = vec!["@key".into(), "@value.secret".into(), "email".into()];
        let key = Redactor::for_part(&pii, true);
        assert!(key.whole());
        assert_eq!(
            key.redact(Datum::Scalar(json!("ada@example.com"))),
            json!(REDACTED)
        );
        let value = Redactor::for_part(&pii, false);
        assert!(!value.whole() && value.classifies());
        assert_eq!(
            value.redact(Datum::from_plain_json(
                json!({"secret": 1, "email": 2, "n": 3})
            )),
            json!({"secret": REDACTED, "email": REDACTED, "n": 3})
        );
        let none = Redactor::for_part(&["@value.x".into()], true);
        assert!(!none.classifies());
    }

    #[test]
    fn paths_are_validated() {
        for ok in [
            "customer.email",
            "**.email",
            "*.email",
            "@key",
            "@value.a.*",
            "a-b.c_d",
        ] {
            assert!(parse_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a..b", ".a", "a.", "a.**", "**", "a.@key", "a b", "a.$x", "@other.x",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}
