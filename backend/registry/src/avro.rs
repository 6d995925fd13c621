//! Avro: parsing, reference inlining, compatibility (apache-avro's `SchemaCompatibility`),
//! field names and datum decoding.

use std::collections::{HashMap, HashSet};

use apache_avro::{
    Schema, reader::datum::GenericDatumReader, schema_compatibility::SchemaCompatibility,
};
use serde_json::Value;

use crate::{RegistryError, ResolvedReference, schema::MAX_FIELD_NAMES};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

fn invalid(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::InvalidSchema(e.to_string())
}

/// The text stored and served back: the submitted JSON, compact.
pub(crate) fn stored_text(text: &str) -> Result<String, RegistryError> {
    let value: Value = serde_json::from_str(text).map_err(invalid)?;
    Ok(value.to_string())
}

/// Parses `text`, with the named types of `references` inlined at their first use so the result
/// is self-contained (for compatibility checks and decoding).
pub(crate) fn parse(text: &str, references: &[ResolvedReference]) -> Result<Schema, RegistryError> {
    let root: Value = serde_json::from_str(text).map_err(invalid)?;
    let mut named: HashMap<String, Value> = HashMap::new();
    for r in references {
        let value: Value = serde_json::from_str(&r.schema).map_err(invalid)?;
        collect_named(&value, None, &mut named);
    }
    let root = if named.is_empty() {
        root
    } else {
        let mut defined = HashSet::new();
        inline(root, None, &named, &mut defined, 0)?
    };
    Schema::parse(&root).map_err(invalid)
}

fn full_name(
    object: &serde_json::Map<String, Value>,
    namespace: Option<&str>,
) -> Option<(String, Option<String>)> {
    let name = object.get("name")?.as_str()?;
    if name.contains('.') {
        let ns = name.rsplit_once('.').map(|(ns, _)| ns.to_owned());
        return Some((name.to_owned(), ns));
    }
    let ns = object
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| namespace.map(str::to_owned))
        .filter(|ns| !ns.is_empty());
    Some((
        match &ns {
            Some(ns) => format!("{ns}.{name}"),
            None => name.to_owned(),
        },
        ns,
    ))
}

fn is_named_definition(object: &serde_json::Map<String, Value>) -> bool {
    matches!(
        object.get("type").and_then(Value::as_str),
        Some("record" | "error" | "enum" | "fixed")
    )
}

/// Records every named type a referenced schema defines (its own and nested ones).
fn collect_named(value: &Value, namespace: Option<&str>, out: &mut HashMap<String, Value>) {
    match value {
        Value::Object(object) => {
            let mut ns = namespace.map(str::to_owned);
            if is_named_definition(object)
                && let Some((name, own_ns)) = full_name(object, namespace)
            {
                out.entry(name).or_insert_with(|| value.clone());
                ns = own_ns;
            }
            for (key, v) in object {
                if matches!(key.as_str(), "fields" | "type" | "items" | "values") {
                    collect_named(v, ns.as_deref(), out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_named(v, namespace, out)),
        _ => {}
    }
}

fn inline(
    value: Value,
    namespace: Option<&str>,
    named: &HashMap<String, Value>,
    defined: &mut HashSet<String>,
    depth: usize,
) -> Result<Value, RegistryError> {
    if depth > 64 {
        return Err(invalid("references nest deeper than 64 levels"));
    }
    match value {
        Value::String(name) if !PRIMITIVES.contains(&name.as_str()) => {
            let candidates = [
                name.clone(),
                namespace
                    .map(|ns| format!("{ns}.{name}"))
                    .unwrap_or_default(),
            ];
            for candidate in candidates {
                if candidate.is_empty() || defined.contains(&candidate) {
                    continue;
                }
                if let Some(definition) = named.get(&candidate) {
                    defined.insert(candidate.clone());
                    return inline(definition.clone(), namespace, named, defined, depth + 1);
                }
            }
            Ok(Value::String(name))
        }
        Value::Object(mut object) => {
            let mut ns = namespace.map(str::to_owned);
            if is_named_definition(&object)
                && let Some((name, own_ns)) = full_name(&object, namespace)
            {
                defined.insert(name.clone());
                // An inlined definition from another namespace keeps its full name.
                if !object
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.contains('.'))
                    && own_ns != ns
                    && let Some(own) = &own_ns
                {
                    object.insert("namespace".into(), Value::String(own.clone()));
                }
                ns = own_ns;
            }
            let mut out = serde_json::Map::new();
            for (key, v) in object {
                let v = if matches!(key.as_str(), "fields" | "type" | "items" | "values") {
                    inline(v, ns.as_deref(), named, defined, depth + 1)?
                } else {
                    v
                };
                out.insert(key, v);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => Ok(Value::Array(
            items
                .into_iter()
                .map(|v| inline(v, namespace, named, defined, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(other),
    }
}

/// Whether data written with `writer` can be read with `reader`.
pub(crate) fn can_read(writer: &Schema, reader: &Schema) -> Vec<String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let mut messages = vec![e.to_string()];
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                messages.push(cause.to_string());
                source = cause.source();
            }
            vec![messages.join(": ")]
        }
    }
}

pub(crate) fn field_names(schema: &Schema) -> Vec<String> {
    let mut records = HashMap::new();
    collect_records(schema, &mut records);
    let mut out = Vec::new();
    walk(schema, "", &records, &mut out, &mut HashSet::new());
    out
}

/// Named records by full name, so later `Ref`s to them can be followed.
fn collect_records<'a>(schema: &'a Schema, out: &mut HashMap<String, &'a Schema>) {
    match schema {
        Schema::Record(record) if out.insert(record.name.fullname(None), schema).is_none() => {
            record
                .fields
                .iter()
                .for_each(|f| collect_records(&f.schema, out))
        }
        Schema::Array(array) => collect_records(&array.items, out),
        Schema::Map(map) => collect_records(&map.types, out),
        Schema::Union(union) => union
            .variants()
            .iter()
            .for_each(|v| collect_records(v, out)),
        _ => {}
    }
}

fn walk(
    schema: &Schema,
    prefix: &str,
    records: &HashMap<String, &Schema>,
    out: &mut Vec<String>,
    seen: &mut HashSet<String>,
) {
    match schema {
        Schema::Ref { name } => {
            if let Some(record) = records.get(&name.fullname(None)) {
                walk(record, prefix, records, out, seen);
            }
        }
        Schema::Record(record) => {
            if !seen.insert(record.name.fullname(None)) {
                return;
            }
            for field in &record.fields {
                // A named type reused along many paths has exponentially many paths.
                if out.len() >= MAX_FIELD_NAMES {
                    break;
                }
                let path = if prefix.is_empty() {
                    field.name.clone()
                } else {
                    format!("{prefix}.{}", field.name)
                };
                out.push(field.name.clone());
                out.push(path.clone());
                walk(&field.schema, &path, records, out, seen);
            }
            seen.remove(&record.name.fullname(None));
        }
        Schema::Array(array) => walk(&array.items, prefix, records, out, seen),
        Schema::Map(map) => walk(&map.types, prefix, records, out, seen),
        Schema::Union(union) => union
            .variants()
            .iter()
            .for_each(|v| walk(v, prefix, records, out, seen)),
        _ => {}
    }
}

/// Decodes one Avro datum (no container header) written with `schema` to JSON.
pub(crate) fn decode(schema: &Schema, mut payload: &[u8]) -> Result<Value, RegistryError> {
    let value = GenericDatumReader::builder(schema)
        .build()
        .and_then(|reader| reader.read_value(&mut payload))
        .map_err(|e| RegistryError::Decode(e.to_string()))?;
    Value::try_from(value).map_err(|e| RegistryError::Decode(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{Level, Parsed, test_support::check_level};

    fn p(text: &str) -> Parsed {
        Parsed::Avro(parse(text, &[]).unwrap())
    }

    const V1: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"}]}"#;
    const V2_DEFAULT: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int","default":1}]}"#;
    const V2_NO_DEFAULT: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"}]}"#;
    const V_EMPTY: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[]}"#;

    #[test]
    fn adding_a_field_with_default_is_backward_and_forward_compatible() {
        assert!(check_level(Level::Full, &p(V2_DEFAULT), &[(1, p(V1))]).is_empty());
    }

    #[test]
    fn adding_a_field_without_default_breaks_backward_only() {
        let backward = check_level(Level::Backward, &p(V2_NO_DEFAULT), &[(1, p(V1))]);
        assert_eq!(backward.len(), 1, "{backward:?}");
        assert!(backward[0].contains("qty"), "{backward:?}");
        assert!(check_level(Level::Forward, &p(V2_NO_DEFAULT), &[(1, p(V1))]).is_empty());
        assert!(check_level(Level::None, &p(V2_NO_DEFAULT), &[(1, p(V1))]).is_empty());
    }

    #[test]
    fn removing_a_field_without_default_breaks_forward() {
        assert!(check_level(Level::Backward, &p(V_EMPTY), &[(1, p(V1))]).is_empty());
        assert!(!check_level(Level::Forward, &p(V_EMPTY), &[(1, p(V1))]).is_empty());
    }

    #[test]
    fn transitive_levels_check_every_earlier_version() {
        // v1 {id}, v2 {} , v3 {qty without default}: v3 reads v2 (qty missing → no); against
        // only v2 it is already incompatible, so use a case where only v1 breaks:
        let v1 = p(V2_NO_DEFAULT); // {id, qty}
        let v2 = p(V2_DEFAULT); // {id, qty=1}
        let v3 = p(V_EMPTY); // {}
        // FORWARD: old reads new. v2 reads v3 (id missing, no default) → broken either way.
        let earlier = [(2, v2), (1, v1)];
        assert!(!check_level(Level::Forward, &v3, &earlier).is_empty());
        let t = check_level(Level::ForwardTransitive, &v3, &earlier);
        assert!(t.iter().any(|m| m.contains("oldSchemaVersion: 1")), "{t:?}");
        // BACKWARD vs BACKWARD_TRANSITIVE: new {id, qty=1} reads v2 {} ? id has no default → no.
        let a = p(V_EMPTY);
        let b = p(
            r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string","default":"x"}]}"#,
        );
        let c = p(V1);
        // c reads b fine, c cannot read a (id missing without default).
        assert!(check_level(Level::Backward, &c, &[(2, b), (1, a)]).is_empty());
        let a = p(V_EMPTY);
        let b = p(
            r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string","default":"x"}]}"#,
        );
        assert!(!check_level(Level::BackwardTransitive, &c, &[(2, b), (1, a)]).is_empty());
    }

    #[test]
    fn type_change_is_incompatible_and_promotion_is_not() {
        let int = p(r#"{"type":"record","name":"R","fields":[{"name":"n","type":"int"}]}"#);
        let long = p(r#"{"type":"record","name":"R","fields":[{"name":"n","type":"long"}]}"#);
        let string = p(r#"{"type":"record","name":"R","fields":[{"name":"n","type":"string"}]}"#);
        assert!(check_level(Level::Backward, &long, &[(1, int)]).is_empty());
        let int = p(r#"{"type":"record","name":"R","fields":[{"name":"n","type":"int"}]}"#);
        assert!(!check_level(Level::Backward, &string, &[(1, int)]).is_empty());
    }

    #[test]
    fn references_are_inlined_from_other_subjects() {
        let address = ResolvedReference {
            name: "shop.Address".into(),
            schema: r#"{"type":"record","name":"Address","namespace":"shop","fields":[{"name":"city","type":"string"}]}"#.into(),
        };
        let customer = r#"{"type":"record","name":"Customer","namespace":"shop","fields":[{"name":"home","type":"shop.Address"},{"name":"work","type":["null","Address"]}]}"#;
        let schema = parse(customer, std::slice::from_ref(&address)).unwrap();
        let names = field_names(&schema);
        assert!(names.contains(&"home.city".to_owned()), "{names:?}");
        assert!(names.contains(&"work.city".to_owned()), "{names:?}");
        assert!(
            parse(customer, &[]).is_err(),
            "unknown type without the reference"
        );
    }

    #[test]
    fn invalid_avro_is_refused() {
        assert!(parse(r#"{"type":"record","name":"R"}"#, &[]).is_err());
        assert!(parse("not json", &[]).is_err());
    }

    #[test]
    fn field_names_of_a_named_type_reused_along_many_paths_are_capped() {
        // R1 {a: R2, b: R2}, R2 {a: R3, b: R3}, … R40 {s: string}: 2^40 paths.
        let mut inner = serde_json::json!({"type": "record", "name": "R40",
            "fields": [{"name": "s", "type": "string"}]});
        for i in (1..40).rev() {
            let next = format!("R{}", i + 1);
            inner = serde_json::json!({"type": "record", "name": format!("R{i}"), "fields": [
                {"name": "a", "type": inner}, {"name": "b", "type": next}]});
        }
        let schema = parse(&inner.to_string(), &[]).unwrap();
        let names = field_names(&schema);
        assert!(
            names.len() <= crate::schema::MAX_FIELD_NAMES + 2,
            "{}",
            names.len()
        );
        assert!(names.contains(&"a.a.a".to_owned()));
    }
}
