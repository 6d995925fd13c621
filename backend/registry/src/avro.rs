//! Avro: parsing, reference inlining, compatibility (apache-avro's `SchemaCompatibility`),
//! field names and datum decoding.

use std::collections::{HashMap, HashSet};

use apache_avro::{
    Schema,
    reader::datum::GenericDatumReader,
    schema::{DecimalSchema, FixedSchema, InnerDecimalSchema, UuidSchema},
    schema_compatibility::SchemaCompatibility,
    types::Value as AvroValue,
};
use serde_json::Value;

use crate::{
    RegistryError, ResolvedReference,
    datum::{
        Datum, DecodeBudget, Entry, KeyRole, MAX_DECODE_BYTES, MAX_DECODE_DEPTH, too_deep,
        truncated, zigzag,
    },
    schema::MAX_FIELD_NAMES,
};

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

/// Decodes one Avro datum (no container header) written with `schema`, within the
/// per-message bounds: the datum is measured first (every value, string and byte it would
/// allocate, its nesting), so a message of many collections each within apache-avro's
/// per-collection limit is refused as a whole.
pub(crate) fn decode(schema: &Schema, payload: &[u8]) -> Result<Datum, RegistryError> {
    // apache-avro's own per-collection limit (a process-wide setting, set once) is the
    // per-message one: no single collection may exceed what the whole message may take.
    apache_avro::util::max_allocation_bytes(MAX_DECODE_BYTES);
    let resolved = apache_avro::schema::ResolvedSchema::try_from(schema)
        .map_err(|e| RegistryError::Decode(e.to_string()))?;
    let mut measure = Measure {
        names: resolved.get_names(),
        budget: DecodeBudget::new(),
    };
    let mut rest = payload;
    measure.value(schema, None, &mut rest, 0)?;
    let mut input = payload;
    let value = GenericDatumReader::builder(schema)
        .build()
        .and_then(|reader| reader.read_value(&mut input))
        .map_err(|e| RegistryError::Decode(e.to_string()))?;
    to_datum(value)
}

/// An Avro value as a [`Datum`]: record fields are fields, map keys are map keys.
fn to_datum(value: AvroValue) -> Result<Datum, RegistryError> {
    Ok(match value {
        AvroValue::Record(fields) => Datum::Object(
            fields
                .into_iter()
                .map(|(key, v)| {
                    Ok(Entry {
                        key,
                        role: KeyRole::Field,
                        value: to_datum(v)?,
                    })
                })
                .collect::<Result<_, RegistryError>>()?,
        ),
        AvroValue::Map(entries) => {
            let mut entries: Vec<(String, AvroValue)> = entries.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Datum::Object(
                entries
                    .into_iter()
                    .map(|(key, v)| {
                        Ok(Entry {
                            key,
                            role: KeyRole::MapKey,
                            value: to_datum(v)?,
                        })
                    })
                    .collect::<Result<_, RegistryError>>()?,
            )
        }
        AvroValue::Array(items) => Datum::List(
            items
                .into_iter()
                .map(to_datum)
                .collect::<Result<_, RegistryError>>()?,
        ),
        AvroValue::Union(_, inner) => to_datum(*inner)?,
        scalar => Datum::Scalar(
            Value::try_from(scalar).map_err(|e| RegistryError::Decode(e.to_string()))?,
        ),
    })
}

/// Walks a datum without allocating, charging what decoding it would take.
struct Measure<'a, 's> {
    names: &'a apache_avro::schema::NamesRef<'s>,
    budget: DecodeBudget,
}

fn long(input: &mut &[u8]) -> Result<i64, RegistryError> {
    zigzag(input)
}

fn skip(input: &mut &[u8], n: usize) -> Result<(), RegistryError> {
    if input.len() < n {
        return Err(truncated());
    }
    *input = &input[n..];
    Ok(())
}

/// A length prefix, checked against what is left of the datum.
fn length(input: &mut &[u8]) -> Result<usize, RegistryError> {
    let n = long(input)?;
    let n = usize::try_from(n).map_err(|_| RegistryError::Decode(format!("length {n}")))?;
    if n > input.len() {
        return Err(truncated());
    }
    Ok(n)
}

/// What one byte of `bytes`/`fixed` costs: it is shown as a JSON number.
const BYTE_COST: usize = 1 + std::mem::size_of::<Value>();

impl Measure<'_, '_> {
    fn value(
        &mut self,
        schema: &Schema,
        namespace: Option<&str>,
        input: &mut &[u8],
        depth: usize,
    ) -> Result<(), RegistryError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(too_deep());
        }
        self.budget.nodes(1)?;
        match schema {
            Schema::Null => {}
            Schema::Boolean => skip(input, 1)?,
            Schema::Int
            | Schema::Long
            | Schema::Date
            | Schema::TimeMillis
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                long(input)?;
            }
            Schema::Enum(e) => {
                let index = long(input)?;
                let symbol = usize::try_from(index)
                    .ok()
                    .and_then(|i| e.symbols.get(i))
                    .ok_or_else(|| RegistryError::Decode(format!("enum index {index}")))?;
                self.budget.charge(symbol.len())?;
            }
            Schema::Float => skip(input, 4)?,
            Schema::Double => skip(input, 8)?,
            Schema::String | Schema::Uuid(UuidSchema::String) => {
                let n = length(input)?;
                self.budget.charge(n)?;
                skip(input, n)?;
            }
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => {
                let n = length(input)?;
                self.budget.charge(n.saturating_mul(BYTE_COST))?;
                skip(input, n)?;
            }
            Schema::Fixed(FixedSchema { size, .. })
            | Schema::Uuid(UuidSchema::Fixed(FixedSchema { size, .. }))
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(FixedSchema { size, .. }),
                ..
            })
            | Schema::Duration(FixedSchema { size, .. }) => {
                self.budget.charge(size.saturating_mul(BYTE_COST))?;
                skip(input, *size)?;
            }
            Schema::Array(array) => self.blocks(input, |m, input| {
                m.value(&array.items, namespace, input, depth + 1)
            })?,
            Schema::Map(map) => self.blocks(input, |m, input| {
                let n = length(input)?;
                m.budget.charge(n)?;
                skip(input, n)?;
                m.value(&map.types, namespace, input, depth + 1)
            })?,
            Schema::Union(union) => {
                let index = long(input)?;
                let variant = usize::try_from(index)
                    .ok()
                    .and_then(|i| union.variants().get(i))
                    .ok_or_else(|| RegistryError::Decode(format!("union index {index}")))?;
                self.value(variant, namespace, input, depth)?;
            }
            Schema::Record(record) => {
                let name = record.name.fully_qualified_name(namespace);
                for field in &record.fields {
                    self.value(&field.schema, name.namespace(), input, depth + 1)?;
                }
            }
            Schema::Ref { name } => {
                let full = name.fully_qualified_name(namespace);
                let resolved = *self.names.get(full.as_ref()).ok_or_else(|| {
                    RegistryError::Decode(format!("unknown type {}", full.fullname(None)))
                })?;
                self.value(resolved, namespace, input, depth + 1)?;
            }
        }
        Ok(())
    }

    /// Array and map blocks: a count (negative: followed by a byte size), 0 ends. The whole
    /// block is charged before its items are read, so a huge count of empty items is refused
    /// without reading them.
    fn blocks(
        &mut self,
        input: &mut &[u8],
        mut item: impl FnMut(&mut Self, &mut &[u8]) -> Result<(), RegistryError>,
    ) -> Result<(), RegistryError> {
        loop {
            let count = long(input)?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                long(input)?;
            }
            let count = usize::try_from(count.unsigned_abs())
                .map_err(|_| RegistryError::Decode(format!("block of {count} items")))?;
            self.budget.nodes(count)?;
            for _ in 0..count {
                item(self, input)?;
            }
        }
    }
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

    fn zigzag(n: i64) -> Vec<u8> {
        let mut v = ((n << 1) ^ (n >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    #[test]
    fn a_message_of_many_collections_each_within_the_limit_is_refused_as_a_whole() {
        // Four arrays of nulls: no payload bytes per item, one decoded value each.
        let fields: Vec<String> = (0..4)
            .map(|i| format!(r#"{{"name":"a{i}","type":{{"type":"array","items":"null"}}}}"#))
            .collect();
        let schema = parse(
            &format!(
                r#"{{"type":"record","name":"R","fields":[{}]}}"#,
                fields.join(",")
            ),
            &[],
        )
        .unwrap();
        let per_array = (MAX_DECODE_BYTES / crate::datum::NODE_COST / 3) as i64;
        let array = |n: i64| {
            let mut bytes = if n > 0 { zigzag(n) } else { Vec::new() };
            bytes.extend(zigzag(0));
            bytes
        };
        // One such array alone decodes (and stays within apache-avro's per-collection limit)...
        let one: Vec<u8> = [array(per_array), array(0), array(0), array(0)].concat();
        let decoded = decode(&schema, &one).unwrap().into_json();
        assert_eq!(
            decoded["a0"].as_array().map(Vec::len),
            Some(per_array as usize)
        );
        // ...four of them in one message do not.
        let four: Vec<u8> = (0..4).flat_map(|_| array(per_array)).collect();
        assert!(four.len() < 64, "a tiny payload");
        match decode(&schema, &four) {
            Err(e) => assert!(e.to_string().contains("MiB"), "{e}"),
            Ok(_) => panic!("four arrays decoded"),
        }
        // A single block claiming more items than the message may hold is refused unread.
        let huge: Vec<u8> = [zigzag(i64::MAX / 2), array(0), array(0), array(0)].concat();
        assert!(decode(&schema, &huge).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_before_decoding() {
        let schema = parse(
            r#"{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]}]}"#,
            &[],
        )
        .unwrap();
        // Each level: union index 1, then the innermost takes null (index 0).
        let nested = |levels: usize| {
            let mut bytes = vec![2u8; levels];
            bytes.push(0);
            bytes
        };
        assert!(decode(&schema, &nested(10)).is_ok());
        let e = decode(&schema, &nested(100_000)).unwrap_err();
        assert!(e.to_string().contains("deeper"), "{e}");
    }

    #[test]
    fn maps_keys_are_marked_as_map_keys() {
        let schema = parse(
            r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"string"}}]}"#,
            &[],
        )
        .unwrap();
        let payload = [
            zigzag(1),
            zigzag(1),
            b"k".to_vec(),
            zigzag(1),
            b"v".to_vec(),
            zigzag(0),
        ]
        .concat();
        let Datum::Object(fields) = decode(&schema, &payload).unwrap() else {
            panic!("a record");
        };
        assert_eq!(fields[0].role, KeyRole::Field);
        let Datum::Object(entries) = &fields[0].value else {
            panic!("a map");
        };
        assert_eq!(entries[0].key, "k");
        assert_eq!(entries[0].role, KeyRole::MapKey);
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
