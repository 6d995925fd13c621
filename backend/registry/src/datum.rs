//! A decoded message as a tree that remembers what its object keys are: field names of the
//! schema, keys of a map (Avro `map`, Protobuf `map<>`, JSON `additionalProperties`), or not
//! known. Redaction by field path needs the difference: a map's keys are data, so a path walks
//! through them to the fields of the map's values.
//!
//! Decoding is bounded per message: every format is first measured without allocating (nodes,
//! bytes, nesting) against [`MAX_DECODE_BYTES`] and [`MAX_DECODE_DEPTH`], and only a message
//! within both is decoded.

use serde_json::{Map, Value};

use crate::{
    RegistryError,
    json_schema::{self, JsonSchema},
};

/// Most memory one message may take once decoded (an estimate made before decoding: every
/// value counts as one node of [`NODE_COST`] bytes, strings and bytes by their length).
pub const MAX_DECODE_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of records, arrays and maps decoded in one message.
pub const MAX_DECODE_DEPTH: usize = 64;
/// What one decoded value costs: the decoder's own value, its JSON and its [`Datum`] entry.
pub(crate) const NODE_COST: usize = 160;

/// What an object's key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// A field name declared by the schema.
    Field,
    /// A key of a map: data, not a field name.
    MapKey,
    /// Not declared by the schema (JSON `additionalProperties`, a document without schema):
    /// it may be a field name or a map key.
    Unknown,
}

/// One key of an object with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub role: KeyRole,
    pub value: Datum,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    /// Anything that is not an object or an array (as JSON).
    Scalar(Value),
    List(Vec<Datum>),
    Object(Vec<Entry>),
}

impl Datum {
    /// The JSON the message is shown as.
    pub fn into_json(self) -> Value {
        match self {
            Self::Scalar(v) => v,
            Self::List(items) => Value::Array(items.into_iter().map(Self::into_json).collect()),
            Self::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|e| (e.key, e.value.into_json()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// A JSON document read without a schema: its object keys are taken as field names.
    pub fn from_plain_json(value: Value) -> Self {
        Self::from_json_with(value, KeyRole::Field)
    }

    /// A JSON document whose keys are all of `role`.
    pub(crate) fn from_json_with(value: Value, role: KeyRole) -> Self {
        match value {
            Value::Array(items) => Self::List(
                items
                    .into_iter()
                    .map(|v| Self::from_json_with(v, role))
                    .collect(),
            ),
            Value::Object(map) => Self::Object(
                map.into_iter()
                    .map(|(key, v)| Entry {
                        key,
                        role,
                        value: Self::from_json_with(v, role),
                    })
                    .collect(),
            ),
            scalar => Self::Scalar(scalar),
        }
    }
}

/// What decoding one message may still take.
pub(crate) struct DecodeBudget {
    left: usize,
}

impl DecodeBudget {
    pub(crate) fn new() -> Self {
        Self {
            left: MAX_DECODE_BYTES,
        }
    }

    /// Takes `bytes` (saturating), or refuses the message.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), RegistryError> {
        self.left = self.left.checked_sub(bytes).ok_or_else(|| {
            RegistryError::Decode(format!(
                "the message would take more than {} MiB once decoded",
                MAX_DECODE_BYTES / (1024 * 1024)
            ))
        })?;
        Ok(())
    }

    /// `count` nodes.
    pub(crate) fn nodes(&mut self, count: usize) -> Result<(), RegistryError> {
        self.charge(count.saturating_mul(NODE_COST))
    }
}

/// A message shorter than its contents say.
pub(crate) fn truncated() -> RegistryError {
    RegistryError::Decode("the message is truncated".into())
}

/// A base-128 varint (Avro and Protobuf).
pub(crate) fn varint(input: &mut &[u8]) -> Result<u64, RegistryError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or_else(truncated)?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(RegistryError::Decode("varint too long".into()))
}

/// A zigzag-encoded varint (Avro `int`/`long`, Confluent's message indexes).
pub(crate) fn zigzag(input: &mut &[u8]) -> Result<i64, RegistryError> {
    let value = varint(input)?;
    Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
}

pub(crate) fn too_deep() -> RegistryError {
    RegistryError::Decode(format!(
        "the message nests deeper than {MAX_DECODE_DEPTH} levels"
    ))
}

/// Measures a JSON document before it is parsed: one node per value (counted from the
/// structural characters outside strings), its bytes, and its nesting.
pub(crate) fn measure_json(bytes: &[u8]) -> Result<(), RegistryError> {
    let mut budget = DecodeBudget::new();
    budget.charge(bytes.len())?;
    let (mut nodes, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                nodes += 1;
                if depth > MAX_DECODE_DEPTH {
                    return Err(too_deep());
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' | b':' => nodes += 1,
            _ => {}
        }
    }
    budget.nodes(nodes)
}

/// Parses a JSON document within the per-message bounds.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, RegistryError> {
    measure_json(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Decode(e.to_string()))
}

/// Reads a JSON document without schema within the per-message bounds.
pub fn plain_json(bytes: &[u8]) -> Result<Datum, RegistryError> {
    parse_json(bytes).map(Datum::from_plain_json)
}

/// Schema nodes that apply at one place of a document, `$ref`s followed and `allOf` / `anyOf` /
/// `oneOf` branches expanded. Empty: nothing is known there.
fn applicable<'a>(
    schema: &'a JsonSchema,
    start: Vec<(&'a Value, &'a Value)>,
) -> Vec<(&'a Map<String, Value>, &'a Value)> {
    let mut out = Vec::new();
    let mut todo = start;
    while let Some((node, doc)) = todo.pop() {
        if out.len() >= 64 {
            break;
        }
        let Ok((node, doc)) = json_schema::deref(schema, node, doc) else {
            continue;
        };
        let Some(object) = node.as_object() else {
            continue;
        };
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array) {
                todo.extend(branches.iter().map(|b| (b, doc)));
            }
        }
        for key in ["then", "else"] {
            if let Some(branch) = object.get(key) {
                todo.push((branch, doc));
            }
        }
        out.push((object, doc));
    }
    out
}

/// A JSON document written with a JSON Schema: keys the schema declares under `properties`
/// are fields; other keys (`additionalProperties`, `patternProperties`, undeclared) are
/// [`KeyRole::Unknown`], as is everything where the schema says nothing.
pub(crate) fn from_json_schema(schema: &JsonSchema, value: Value) -> Datum {
    typed_json(schema, vec![(&schema.root, &schema.root)], value)
}

fn typed_json<'a>(schema: &'a JsonSchema, at: Vec<(&'a Value, &'a Value)>, value: Value) -> Datum {
    let nodes = applicable(schema, at);
    if nodes.is_empty() {
        return Datum::from_json_with(value, KeyRole::Unknown);
    }
    match value {
        Value::Object(map) => Datum::Object(
            map.into_iter()
                .map(|(key, v)| {
                    let declared: Vec<(&Value, &Value)> = nodes
                        .iter()
                        .filter_map(|(n, doc)| {
                            n.get("properties")
                                .and_then(|p| p.get(&key))
                                .map(|s| (s, *doc))
                        })
                        .collect();
                    if declared.is_empty() {
                        let extra: Vec<(&Value, &Value)> = nodes
                            .iter()
                            .flat_map(|(n, doc)| {
                                let additional = n
                                    .get("additionalProperties")
                                    .filter(|a| a.is_object())
                                    .into_iter();
                                let patterns = n
                                    .get("patternProperties")
                                    .and_then(Value::as_object)
                                    .into_iter()
                                    .flat_map(|p| p.values());
                                additional.chain(patterns).map(move |s| (s, *doc))
                            })
                            .collect();
                        Entry {
                            key,
                            role: KeyRole::Unknown,
                            value: typed_json(schema, extra, v),
                        }
                    } else {
                        Entry {
                            key,
                            role: KeyRole::Field,
                            value: typed_json(schema, declared, v),
                        }
                    }
                })
                .collect(),
        ),
        Value::Array(items) => {
            let item_schemas: Vec<(&Value, &Value)> = nodes
                .iter()
                .flat_map(|(n, doc)| {
                    let items = match n.get("items") {
                        Some(Value::Array(tuple)) => tuple.iter().collect::<Vec<_>>(),
                        Some(one) => vec![one],
                        None => Vec::new(),
                    };
                    let prefix = n
                        .get("prefixItems")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten();
                    items.into_iter().chain(prefix).map(move |s| (s, *doc))
                })
                .collect();
            Datum::List(
                items
                    .into_iter()
                    .map(|v| typed_json(schema, item_schemas.clone(), v))
                    .collect(),
            )
        }
        scalar => Datum::Scalar(scalar),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn roles(datum: &Datum) -> Vec<(String, KeyRole)> {
        let mut out = Vec::new();
        fn walk(d: &Datum, prefix: &str, out: &mut Vec<(String, KeyRole)>) {
            match d {
                Datum::Scalar(_) => {}
                Datum::List(items) => items.iter().for_each(|i| walk(i, prefix, out)),
                Datum::Object(entries) => {
                    for e in entries {
                        let path = format!("{prefix}/{}", e.key);
                        out.push((path.clone(), e.role));
                        walk(&e.value, &path, out);
                    }
                }
            }
        }
        walk(datum, "", &mut out);
        out
    }

    #[test]
    fn json_schema_properties_are_fields_and_additional_properties_are_not() {
        let schema = crate::json_schema::parse(
            r##"{"type":"object","properties":{"customer":{"$ref":"#/$defs/c"},"contacts":{"type":"object","additionalProperties":{"$ref":"#/$defs/c"}}},"$defs":{"c":{"type":"object","properties":{"email":{"type":"string"}}}}}"##,
            &[],
        )
        .unwrap();
        let datum = from_json_schema(
            &schema,
            json!({"customer":{"email":"a"},"contacts":{"home":{"email":"b"}},"extra":{"x":1}}),
        );
        let r = roles(&datum);
        assert!(r.contains(&("/customer".into(), KeyRole::Field)), "{r:?}");
        assert!(
            r.contains(&("/customer/email".into(), KeyRole::Field)),
            "{r:?}"
        );
        assert!(
            r.contains(&("/contacts/home".into(), KeyRole::Unknown)),
            "{r:?}"
        );
        assert!(
            r.contains(&("/contacts/home/email".into(), KeyRole::Field)),
            "{r:?}"
        );
        assert!(r.contains(&("/extra/x".into(), KeyRole::Unknown)), "{r:?}");
        assert_eq!(
            datum.into_json(),
            json!({"customer":{"email":"a"},"contacts":{"home":{"email":"b"}},"extra":{"x":1}})
        );
    }

    #[test]
    fn json_is_measured_before_it_is_parsed() {
        assert!(parse_json(br#"{"a":[1,2,{"b":"}{,"}]}"#).is_ok());
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_DECODE_DEPTH + 1),
            "]".repeat(MAX_DECODE_DEPTH + 1)
        );
        assert!(parse_json(deep.as_bytes()).is_err());
        // Many small values: 2 bytes of input each, far more once decoded.
        let wide = format!("[{}0]", "0,".repeat(MAX_DECODE_BYTES / NODE_COST));
        let e = parse_json(wide.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("MiB"), "{e}");
    }
}
