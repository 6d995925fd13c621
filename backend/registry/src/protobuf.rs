//! Protobuf: `.proto` parsing with protox (imports resolved from referenced subjects by import
//! name, well-known types built in), compatibility over prost-reflect descriptors following
//! Confluent's documented rules, field names and message decoding.

use std::collections::{HashMap, HashSet};

use prost::Message as _;
use prost_reflect::{
    Cardinality, DynamicMessage, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use serde_json::Value;

use crate::{
    RegistryError, ResolvedReference,
    budget::Budget,
    datum::{Datum, DecodeBudget, Entry, KeyRole, MAX_DECODE_DEPTH, too_deep, truncated, varint},
    schema::MAX_FIELD_NAMES,
};

/// The name the subject's own file gets while compiling.
const MAIN_FILE: &str = "__registry_schema__.proto";

struct SourceResolver {
    files: HashMap<String, String>,
}

impl FileResolver for SourceResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.get(name) {
            Some(source) => File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
) -> Result<FileDescriptor, RegistryError> {
    let mut files: HashMap<String, String> = references
        .iter()
        .map(|r| (r.name.clone(), r.schema.clone()))
        .collect();
    files.insert(MAIN_FILE.to_owned(), text.to_owned());
    let mut chain = ChainFileResolver::new();
    chain.add(SourceResolver { files });
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler
        .open_file(MAIN_FILE)
        .map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
    let pool = compiler.descriptor_pool();
    let file = pool
        .get_file_by_name(MAIN_FILE)
        .ok_or_else(|| RegistryError::InvalidSchema("the .proto file did not compile".into()))?;
    if file.messages().len() == 0 {
        return Err(RegistryError::InvalidSchema(
            "the .proto file defines no message".into(),
        ));
    }
    Ok(file)
}

/// The compiled file descriptor (no source info) as hex: equal for equivalent texts.
pub(crate) fn canonical(file: &FileDescriptor) -> String {
    let mut proto = file.file_descriptor_proto().clone();
    proto.name = None;
    proto
        .encode_to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn all_messages(file: &FileDescriptor) -> Vec<MessageDescriptor> {
    fn add(m: MessageDescriptor, out: &mut Vec<MessageDescriptor>) {
        for child in m.child_messages() {
            if !child.is_map_entry() {
                add(child, out);
            }
        }
        out.push(m);
    }
    let mut out = Vec::new();
    for m in file.messages() {
        add(m, &mut out);
    }
    out
}

/// Scalar kinds that read each other's wire values (protobuf's language guide).
fn scalar_group(kind: &Kind) -> Option<u8> {
    Some(match kind {
        Kind::Int32 | Kind::Uint32 | Kind::Int64 | Kind::Uint64 | Kind::Bool => 1,
        Kind::Sint32 | Kind::Sint64 => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::String | Kind::Bytes => 5,
        Kind::Double => 6,
        Kind::Float => 7,
        Kind::Message(_) | Kind::Enum(_) => return None,
    })
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn is_numeric(kind: &Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

fn real_oneof(field: &FieldDescriptor) -> Option<String> {
    field
        .containing_oneof()
        .filter(|o| !o.is_synthetic())
        .map(|o| o.name().to_owned())
}

/// Differences between `writer` (original) and `reader` (update) that break reading.
pub(crate) fn can_read(
    writer: &FileDescriptor,
    reader: &FileDescriptor,
    budget: &mut Budget,
) -> Result<Vec<String>, RegistryError> {
    let mut out = Vec::new();
    if writer.package_name() != reader.package_name() {
        out.push(format!(
            "PACKAGE_CHANGED: package {:?} became {:?}",
            writer.package_name(),
            reader.package_name()
        ));
    }
    let readers: HashMap<String, MessageDescriptor> = all_messages(reader)
        .into_iter()
        .map(|m| (m.full_name().to_owned(), m))
        .collect();
    for w in all_messages(writer) {
        budget.spend(1 + w.fields().len() as u64)?;
        let Some(r) = readers.get(w.full_name()) else {
            out.push(format!(
                "MESSAGE_REMOVED: message {} was removed or renamed",
                w.full_name()
            ));
            continue;
        };
        compare_message(&w, r, &mut out);
    }
    Ok(out)
}

fn compare_message(w: &MessageDescriptor, r: &MessageDescriptor, out: &mut Vec<String>) {
    let msg = w.full_name();
    let reader_fields: HashMap<u32, FieldDescriptor> =
        r.fields().map(|f| (f.number(), f)).collect();
    let writer_fields: HashMap<u32, FieldDescriptor> =
        w.fields().map(|f| (f.number(), f)).collect();
    let writer_oneofs: HashSet<String> = w
        .oneofs()
        .filter(|o| !o.is_synthetic())
        .map(|o| o.name().to_owned())
        .collect();
    // Fields that were outside any oneof and now sit in one, per reader oneof.
    let mut moved_into: HashMap<String, usize> = HashMap::new();
    for wf in w.fields() {
        let at = format!("{msg}.{} (#{})", wf.name(), wf.number());
        let Some(rf) = reader_fields.get(&wf.number()) else {
            if wf.cardinality() == Cardinality::Required {
                out.push(format!("REQUIRED_FIELD_REMOVED: {at}"));
            } else if real_oneof(&wf).is_some() {
                out.push(format!(
                    "ONEOF_FIELD_REMOVED: {at} was removed from its oneof"
                ));
            }
            continue;
        };
        let (wk, rk) = (wf.kind(), rf.kind());
        match (&wk, &rk) {
            (Kind::Message(a), Kind::Message(b)) if a.full_name() != b.full_name() => {
                out.push(format!(
                    "FIELD_NAMED_TYPE_CHANGED: {at} changed from {} to {}",
                    a.full_name(),
                    b.full_name()
                ))
            }
            (Kind::Enum(a), Kind::Enum(b)) if a.full_name() != b.full_name() => out.push(format!(
                "FIELD_NAMED_TYPE_CHANGED: {at} changed from {} to {}",
                a.full_name(),
                b.full_name()
            )),
            (Kind::Message(_), Kind::Message(_)) | (Kind::Enum(_), Kind::Enum(_)) => {}
            _ => match (scalar_group(&wk), scalar_group(&rk)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(_), Some(_)) => out.push(format!(
                    "FIELD_SCALAR_KIND_CHANGED: {at} changed from {} to {}",
                    kind_name(&wk),
                    kind_name(&rk)
                )),
                _ => out.push(format!(
                    "FIELD_KIND_CHANGED: {at} changed from {} to {}",
                    kind_name(&wk),
                    kind_name(&rk)
                )),
            },
        }
        let (wc, rc) = (wf.cardinality(), rf.cardinality());
        if (wc == Cardinality::Required) != (rc == Cardinality::Required) {
            out.push(format!(
                "{}: {at}",
                if rc == Cardinality::Required {
                    "REQUIRED_FIELD_ADDED"
                } else {
                    "REQUIRED_FIELD_REMOVED"
                }
            ));
        } else if (wc == Cardinality::Repeated) != (rc == Cardinality::Repeated)
            && (is_numeric(&wk) || is_numeric(&rk))
        {
            out.push(format!(
                "FIELD_NUMERIC_LABEL_CHANGED: {at} changed between repeated and singular"
            ));
        }
        if wf.is_map() != rf.is_map() {
            out.push(format!(
                "FIELD_KIND_CHANGED: {at} changed between map and non-map"
            ));
        }
        match (real_oneof(&wf), real_oneof(rf)) {
            (None, Some(oneof)) => {
                if writer_oneofs.contains(&oneof) {
                    out.push(format!(
                        "FIELD_MOVED_TO_EXISTING_ONEOF: {at} moved into oneof {oneof}"
                    ));
                } else {
                    *moved_into.entry(oneof).or_default() += 1;
                }
            }
            (Some(oneof), None) => {
                out.push(format!("ONEOF_FIELD_REMOVED: {at} left oneof {oneof}"))
            }
            (Some(a), Some(b)) if a != b => out.push(format!(
                "ONEOF_FIELD_REMOVED: {at} moved from oneof {a} to {b}"
            )),
            _ => {}
        }
    }
    for (oneof, count) in moved_into {
        if count > 1 {
            out.push(format!("MULTIPLE_FIELDS_MOVED_TO_ONEOF: {count} fields of {msg} moved into new oneof {oneof}"));
        }
    }
    for rf in r.fields() {
        if !writer_fields.contains_key(&rf.number()) && rf.cardinality() == Cardinality::Required {
            out.push(format!(
                "REQUIRED_FIELD_ADDED: {msg}.{} (#{})",
                rf.name(),
                rf.number()
            ));
        }
    }
}

pub(crate) fn field_names(file: &FileDescriptor) -> Vec<String> {
    let mut out = Vec::new();
    for m in file.messages() {
        walk(&m, "", &mut out, &mut HashSet::new());
    }
    out
}

fn walk(m: &MessageDescriptor, prefix: &str, out: &mut Vec<String>, seen: &mut HashSet<String>) {
    if !seen.insert(m.full_name().to_owned()) {
        return;
    }
    for f in m.fields() {
        // A message type reused along many paths has exponentially many paths.
        if out.len() >= MAX_FIELD_NAMES {
            break;
        }
        let path = if prefix.is_empty() {
            f.name().to_owned()
        } else {
            format!("{prefix}.{}", f.name())
        };
        out.push(f.name().to_owned());
        out.push(path.clone());
        if let Kind::Message(child) = f.kind() {
            if child.is_map_entry() {
                if let Kind::Message(value) = child.map_entry_value_field().kind() {
                    walk(&value, &path, out, seen);
                }
            } else {
                walk(&child, &path, out, seen);
            }
        }
    }
    seen.remove(m.full_name());
}

/// The message type that Confluent's message indexes select (top-level index, then nested).
pub(crate) fn message_at(
    file: &FileDescriptor,
    indexes: &[i64],
) -> Result<MessageDescriptor, RegistryError> {
    let bad = || RegistryError::Decode(format!("message indexes {indexes:?} select no message"));
    let (first, rest) = indexes.split_first().ok_or_else(bad)?;
    let mut message = file
        .messages()
        .nth(usize::try_from(*first).map_err(|_| bad())?)
        .ok_or_else(bad)?;
    for i in rest {
        let index = usize::try_from(*i).map_err(|_| bad())?;
        let child = message
            .child_messages()
            .filter(|c| !c.is_map_entry())
            .nth(index)
            .ok_or_else(bad)?;
        message = child;
    }
    Ok(message)
}

/// A message as JSON with its fields under their `.proto` names (`customer_email`, not the JSON
/// mapping's `customerEmail`): the names schema fields, search and PII classifications use.
/// The message is measured first (every field, element and byte, the nesting) against the
/// per-message bounds; `map<>` keys are marked as map keys.
pub(crate) fn decode(message: MessageDescriptor, payload: &[u8]) -> Result<Datum, RegistryError> {
    let mut measure = Measure {
        budget: DecodeBudget::new(),
    };
    let mut input = payload;
    measure.fields(Some(&message), &mut input, None, 0)?;
    let decoded = DynamicMessage::decode(message.clone(), payload)
        .map_err(|e| RegistryError::Decode(e.to_string()))?;
    let options = prost_reflect::SerializeOptions::new().use_proto_field_name(true);
    let json = decoded
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| RegistryError::Decode(e.to_string()))?;
    Ok(message_datum(&message, json))
}

/// Well-known types have their own JSON forms (a timestamp is a string, `Struct` any object).
fn is_well_known(message: &MessageDescriptor) -> bool {
    message.full_name().starts_with("google.protobuf.")
}

fn message_datum(message: &MessageDescriptor, json: Value) -> Datum {
    let Value::Object(map) = json else {
        return Datum::from_json_with(json, KeyRole::Unknown);
    };
    if is_well_known(message) {
        return Datum::from_json_with(Value::Object(map), KeyRole::Unknown);
    }
    Datum::Object(
        map.into_iter()
            .map(|(key, value)| match message.get_field_by_name(&key) {
                Some(field) => {
                    let value = field_datum(&field, value);
                    Entry {
                        key,
                        role: KeyRole::Field,
                        value,
                    }
                }
                None => Entry {
                    key,
                    role: KeyRole::Unknown,
                    value: Datum::from_json_with(value, KeyRole::Unknown),
                },
            })
            .collect(),
    )
}

fn field_datum(field: &FieldDescriptor, json: Value) -> Datum {
    if field.is_map() {
        let value_kind = match field.kind() {
            Kind::Message(entry) => entry.map_entry_value_field().kind(),
            other => other,
        };
        return match json {
            Value::Object(map) => Datum::Object(
                map.into_iter()
                    .map(|(key, v)| Entry {
                        key,
                        role: KeyRole::MapKey,
                        value: kind_datum(&value_kind, v),
                    })
                    .collect(),
            ),
            other => Datum::from_json_with(other, KeyRole::Unknown),
        };
    }
    match json {
        Value::Array(items) if field.is_list() => Datum::List(
            items
                .into_iter()
                .map(|v| kind_datum(&field.kind(), v))
                .collect(),
        ),
        other => kind_datum(&field.kind(), other),
    }
}

fn kind_datum(kind: &Kind, json: Value) -> Datum {
    match kind {
        Kind::Message(message) => message_datum(message, json),
        _ => Datum::from_json_with(json, KeyRole::Unknown),
    }
}

/// Walks a message's wire format without decoding it, charging what decoding would take.
struct Measure {
    budget: DecodeBudget,
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], RegistryError> {
    if input.len() < n {
        return Err(truncated());
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

impl Measure {
    fn fields(
        &mut self,
        message: Option<&MessageDescriptor>,
        input: &mut &[u8],
        group: Option<u32>,
        depth: usize,
    ) -> Result<(), RegistryError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(too_deep());
        }
        while !input.is_empty() {
            let key = varint(input)?;
            let number = u32::try_from(key >> 3)
                .map_err(|_| RegistryError::Decode(format!("field number {}", key >> 3)))?;
            let field = message.and_then(|m| m.get_field(number));
            self.budget.nodes(1)?;
            match key & 7 {
                0 => {
                    varint(input)?;
                }
                1 => {
                    take(input, 8)?;
                }
                5 => {
                    take(input, 4)?;
                }
                2 => {
                    let n = usize::try_from(varint(input)?).map_err(|_| truncated())?;
                    let mut bytes = take(input, n)?;
                    match field.map(|f| f.kind()) {
                        Some(Kind::Message(m)) => {
                            self.fields(Some(&m), &mut bytes, None, depth + 1)?
                        }
                        Some(Kind::String) | None => self.budget.charge(n)?,
                        // Shown as base64.
                        Some(Kind::Bytes) => self.budget.charge(n.saturating_mul(2))?,
                        // A packed repeated scalar: one node per element.
                        Some(Kind::Fixed32 | Kind::Sfixed32 | Kind::Float) => {
                            self.budget.nodes(n / 4)?
                        }
                        Some(Kind::Fixed64 | Kind::Sfixed64 | Kind::Double) => {
                            self.budget.nodes(n / 8)?
                        }
                        Some(_) => self
                            .budget
                            .nodes(bytes.iter().filter(|b| *b & 0x80 == 0).count())?,
                    }
                }
                3 => {
                    let inner = match field.map(|f| f.kind()) {
                        Some(Kind::Message(m)) => Some(m),
                        _ => None,
                    };
                    self.fields(inner.as_ref(), input, Some(number), depth + 1)?;
                }
                4 if group == Some(number) => return Ok(()),
                wire => {
                    return Err(RegistryError::Decode(format!(
                        "unexpected wire type {wire} for field {number}"
                    )));
                }
            }
        }
        match group {
            Some(_) => Err(truncated()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{Level, Parsed, test_support::check_level};

    fn p(text: &str) -> Parsed {
        Parsed::Protobuf(parse(text, &[]).unwrap())
    }

    fn backward(old: &str, new: &str) -> Vec<String> {
        check_level(Level::Backward, &p(new), &[(1, p(old))])
    }

    const V1: &str =
        "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; int32 qty = 2; }\n";

    #[test]
    fn adding_and_removing_optional_fields_is_compatible() {
        let added = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; int32 qty = 2; string note = 3; }\n";
        assert!(check_level(Level::FullTransitive, &p(added), &[(1, p(V1))]).is_empty());
        let removed = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; }\n";
        assert!(backward(V1, removed).is_empty());
    }

    #[test]
    fn changing_a_field_type_or_message_name_is_not() {
        let retyped = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; string qty = 2; }\n";
        let m = backward(V1, retyped);
        assert!(
            m.iter()
                .any(|m| m.contains("FIELD_KIND_CHANGED") || m.contains("SCALAR_KIND")),
            "{m:?}"
        );
        let widened = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; int64 qty = 2; }\n";
        assert!(backward(V1, widened).is_empty());
        let renamed = "syntax = \"proto3\";\npackage shop;\nmessage Purchase { string id = 1; int32 qty = 2; }\n";
        assert!(
            backward(V1, renamed)
                .iter()
                .any(|m| m.contains("MESSAGE_REMOVED"))
        );
        let repackaged = "syntax = \"proto3\";\npackage store;\nmessage Order { string id = 1; int32 qty = 2; }\n";
        assert!(
            backward(V1, repackaged)
                .iter()
                .any(|m| m.contains("PACKAGE_CHANGED"))
        );
        let repeated = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; repeated int32 qty = 2; }\n";
        assert!(backward(V1, repeated).iter().any(|m| m.contains("LABEL")));
    }

    #[test]
    fn oneof_changes() {
        let into_new = "syntax = \"proto3\";\npackage shop;\nmessage Order { oneof k { string id = 1; int32 qty = 2; } }\n";
        assert!(
            backward(V1, into_new)
                .iter()
                .any(|m| m.contains("MULTIPLE_FIELDS_MOVED_TO_ONEOF"))
        );
        let one = "syntax = \"proto3\";\npackage shop;\nmessage Order { oneof k { string id = 1; } int32 qty = 2; }\n";
        assert!(
            backward(V1, one).is_empty(),
            "one field into a new oneof is fine"
        );
        let both = "syntax = \"proto3\";\npackage shop;\nmessage Order { oneof k { string id = 1; int32 qty = 2; } }\n";
        let dropped =
            "syntax = \"proto3\";\npackage shop;\nmessage Order { oneof k { string id = 1; } }\n";
        assert!(
            backward(both, dropped)
                .iter()
                .any(|m| m.contains("ONEOF_FIELD_REMOVED"))
        );
        assert!(
            backward(one, both)
                .iter()
                .any(|m| m.contains("FIELD_MOVED_TO_EXISTING_ONEOF"))
        );
    }

    #[test]
    fn proto2_required_fields() {
        let v1 = "syntax = \"proto2\";\nmessage A { optional string a = 1; }\n";
        let v2 =
            "syntax = \"proto2\";\nmessage A { optional string a = 1; required int32 b = 2; }\n";
        assert!(
            backward(v1, v2)
                .iter()
                .any(|m| m.contains("REQUIRED_FIELD_ADDED"))
        );
        assert!(
            backward(v2, v1)
                .iter()
                .any(|m| m.contains("REQUIRED_FIELD_REMOVED"))
        );
    }

    #[test]
    fn imports_resolve_from_references_and_transitive_levels_apply() {
        let money = ResolvedReference {
            name: "shop/money.proto".into(),
            schema: "syntax = \"proto3\";\npackage shop;\nmessage Money { int64 minor = 1; string currency = 2; }\n".into(),
        };
        let order = "syntax = \"proto3\";\npackage shop;\nimport \"shop/money.proto\";\nimport \"google/protobuf/timestamp.proto\";\nmessage Order { Money total = 1; google.protobuf.Timestamp at = 2; map<string, Money> parts = 3; }\n";
        let file = parse(order, std::slice::from_ref(&money)).unwrap();
        let names = field_names(&file);
        assert!(names.contains(&"total.currency".to_owned()), "{names:?}");
        assert!(names.contains(&"parts.minor".to_owned()), "{names:?}");
        assert!(parse(order, &[]).is_err());

        let v1 = p("syntax = \"proto3\";\nmessage A { string a = 1; }\n");
        let v2 = p("syntax = \"proto3\";\nmessage A { }\n");
        let v3 = p("syntax = \"proto3\";\nmessage A { int32 a = 1; }\n");
        let earlier = [(2, v2), (1, v1)];
        assert!(check_level(Level::Backward, &v3, &earlier).is_empty());
        assert!(!check_level(Level::BackwardTransitive, &v3, &earlier).is_empty());
    }

    #[test]
    fn invalid_proto_is_refused() {
        assert!(parse("syntax = \"proto3\"; message {", &[]).is_err());
        assert!(parse("syntax = \"proto3\"; message A { Unknown x = 1; }", &[]).is_err());
    }

    #[test]
    fn decodes_nested_message_by_index() {
        let file = parse("syntax = \"proto3\";\nmessage A { string a = 1; message B { int32 n = 1; } }\nmessage C { string c = 1; }\n", &[]).unwrap();
        let b = message_at(&file, &[0, 0]).unwrap();
        assert_eq!(b.full_name(), "A.B");
        assert_eq!(message_at(&file, &[1]).unwrap().full_name(), "C");
        let json = decode(b, &[0x08, 0x2a]).unwrap().into_json();
        assert_eq!(json, serde_json::json!({"n": 42}));
    }

    #[test]
    fn many_small_elements_are_refused_as_a_whole() {
        let file = parse(
            "syntax = \"proto3\";\nmessage A { repeated B b = 1; map<string, B> m = 2; }\nmessage B { }\n",
            &[],
        )
        .unwrap();
        let a = message_at(&file, &[0]).unwrap();
        // Two bytes per empty message: far more once decoded.
        let many = [0x0a, 0x00].repeat(crate::MAX_DECODE_BYTES / crate::datum::NODE_COST + 1);
        match decode(a.clone(), &many) {
            Err(e) => assert!(e.to_string().contains("MiB"), "{e}"),
            Ok(_) => panic!("decoded"),
        }
        assert!(decode(a.clone(), &[0x0a, 0x00].repeat(10)).is_ok());
        // m = {"k": {}}: entry (key field 1 = "k", value field 2 = empty B).
        let Datum::Object(fields) = decode(a, &[0x12, 0x05, 0x0a, 0x01, b'k', 0x12, 0x00]).unwrap()
        else {
            panic!("a message");
        };
        let m = fields.iter().find(|f| f.key == "m").unwrap();
        let Datum::Object(entries) = &m.value else {
            panic!("a map");
        };
        assert_eq!(
            (entries[0].key.as_str(), entries[0].role),
            ("k", KeyRole::MapKey)
        );
    }

    #[test]
    fn decoded_fields_keep_their_proto_names() {
        // Classifications and search use `customer_email`; the JSON mapping would say
        // `customerEmail` and PII redaction would miss it.
        let file = parse(
            "syntax = \"proto3\";\nmessage Order { string customer_email = 1; int64 amount_minor = 2; }\n",
            &[],
        )
        .unwrap();
        let order = message_at(&file, &[0]).unwrap();
        // customer_email = "a@b" (field 1, length 3), amount_minor = 5 (field 2).
        let json = decode(order, &[0x0a, 0x03, b'a', b'@', b'b', 0x10, 0x05])
            .unwrap()
            .into_json();
        assert_eq!(
            json,
            serde_json::json!({"customer_email": "a@b", "amount_minor": "5"})
        );
    }

    #[test]
    fn field_names_of_a_message_reused_along_many_paths_are_capped() {
        let mut text = String::from("syntax = \"proto3\";\n");
        for i in 1..40 {
            let next = i + 1;
            text.push_str(&format!(
                "message M{i} {{ M{next} a = 1; M{next} b = 2; }}\n"
            ));
        }
        text.push_str("message M40 { string s = 1; }\n");
        let file = parse(&text, &[]).unwrap();
        let names = field_names(&file);
        assert!(
            names.len() <= crate::schema::MAX_FIELD_NAMES + 2,
            "{}",
            names.len()
        );
        assert!(names.contains(&"a.a.a".to_owned()) && names.contains(&"s".to_owned()));
    }
}
