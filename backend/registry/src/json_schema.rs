//! JSON Schema: validation against the draft meta-schemas (jsonschema crate), reference
//! resolution, and a compatibility checker for the common constructs.
//!
//! "Reader can read writer" means every document valid under the writer schema is valid under
//! the reader schema. Unknown or unsupported keywords are compared by equality.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::{RegistryError, ResolvedReference, budget::Budget};

/// A parsed JSON Schema with the documents its `$ref`s may point at.
pub(crate) struct JsonSchema {
    pub root: Value,
    /// Reference name → referenced document.
    pub references: HashMap<String, Value>,
}

pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
) -> Result<JsonSchema, RegistryError> {
    let root = document(text)?;
    let mut docs = HashMap::new();
    for r in references {
        docs.insert(r.name.clone(), document(&r.schema)?);
    }
    Ok(JsonSchema {
        root,
        references: docs,
    })
}

fn document(text: &str) -> Result<Value, RegistryError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| RegistryError::InvalidSchema(format!("not JSON: {e}")))?;
    if !(value.is_object() || value.is_boolean()) {
        return Err(RegistryError::InvalidSchema(
            "a JSON Schema is an object or a boolean".into(),
        ));
    }
    jsonschema::meta::validate(&value)
        .map_err(|e| RegistryError::InvalidSchema(format!("not a valid JSON Schema: {e}")))?;
    Ok(value)
}

/// Where a `$ref` points: a referenced document (by name, optionally with a `#/…` pointer) or a
/// pointer into the current document.
fn resolve<'a>(
    schema: &'a JsonSchema,
    doc: &'a Value,
    reference: &str,
) -> Option<(&'a Value, &'a Value)> {
    let (name, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let base = if name.is_empty() {
        doc
    } else {
        schema
            .references
            .get(name)
            .or_else(|| schema.references.get(reference))?
    };
    if fragment.is_empty() {
        Some((base, base))
    } else {
        base.pointer(fragment).map(|v| (v, base))
    }
}

/// Follows `$ref` chains (at most 32 hops); returns the schema and the document it lives in.
pub(crate) fn deref<'a>(
    schema: &'a JsonSchema,
    mut node: &'a Value,
    mut doc: &'a Value,
) -> Result<(&'a Value, &'a Value), String> {
    for _ in 0..32 {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
            return Ok((node, doc));
        };
        let (next, next_doc) = resolve(schema, doc, reference)
            .ok_or_else(|| format!("unresolvable $ref {reference:?}"))?;
        node = next;
        doc = next_doc;
    }
    Err("$ref chain longer than 32".into())
}

/// Whether documents valid under `writer` are valid under `reader`: the problems found.
///
/// Each (writer node, reader node) pair is compared once: a definition reached through many
/// `$ref`s (or recursively) is not compared again, so the work grows with the number of pairs
/// the two schemas share, not with the number of paths to them. Every comparison spends a step
/// of `budget`.
pub(crate) fn can_read(
    writer: &JsonSchema,
    reader: &JsonSchema,
    budget: &mut Budget,
) -> Result<Vec<String>, RegistryError> {
    let mut out = Vec::new();
    let mut ctx = Ctx {
        writer,
        reader,
        out: &mut out,
        depth: 0,
        compared: HashSet::new(),
        budget,
    };
    ctx.compare("#", &writer.root, &writer.root, &reader.root, &reader.root)?;
    Ok(out)
}

struct Ctx<'a, 'o> {
    writer: &'a JsonSchema,
    reader: &'a JsonSchema,
    out: &'o mut Vec<String>,
    depth: usize,
    /// (writer node, reader node) pairs already compared or being compared, by address.
    compared: HashSet<(usize, usize)>,
    budget: &'o mut Budget,
}

fn types(node: &Value) -> Option<BTreeSet<String>> {
    match node.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.clone()])),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

fn num(node: &Value, key: &str) -> Option<f64> {
    node.get(key).and_then(Value::as_f64)
}

/// `additionalProperties` as (closed, schema-if-any).
fn additional(node: &Value) -> (bool, Option<&Value>) {
    match node.get("additionalProperties") {
        Some(Value::Bool(false)) => (true, None),
        Some(v @ Value::Object(_)) => (false, Some(v)),
        _ => (false, None),
    }
}

fn is_trivial(node: &Value) -> bool {
    match node {
        Value::Bool(true) => true,
        Value::Object(o) => o.keys().all(|k| {
            matches!(
                k.as_str(),
                "description" | "title" | "$comment" | "default" | "examples"
            )
        }),
        _ => false,
    }
}

const HANDLED: [&str; 24] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "items",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "description",
    "title",
    "$comment",
    "default",
    "examples",
    "$schema",
    "$id",
    "definitions",
    "$defs",
];

impl Ctx<'_, '_> {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.out.push(format!("{path}: {}", message.into()));
    }

    fn compare(
        &mut self,
        path: &str,
        w: &Value,
        wdoc: &Value,
        r: &Value,
        rdoc: &Value,
    ) -> Result<(), RegistryError> {
        self.budget.spend(1)?;
        if self.depth > 64 {
            self.push(path, "schemas nest deeper than 64 levels");
            return Ok(());
        }
        let (w, wdoc) = match deref(self.writer, w, wdoc) {
            Ok(x) => x,
            Err(e) => {
                self.push(path, e);
                return Ok(());
            }
        };
        let (r, rdoc) = match deref(self.reader, r, rdoc) {
            Ok(x) => x,
            Err(e) => {
                self.push(path, e);
                return Ok(());
            }
        };
        // Compared already (through another path), or being compared (recursion): what it
        // finds is reported once, at the first path.
        if !self
            .compared
            .insert((w as *const Value as usize, r as *const Value as usize))
        {
            return Ok(());
        }
        match (w, r) {
            (_, Value::Bool(true)) | (Value::Bool(false), _) => return Ok(()),
            (_, Value::Bool(false)) => {
                self.push(path, "the reader accepts nothing");
                return Ok(());
            }
            (Value::Bool(true), r) if is_trivial(r) => return Ok(()),
            _ => {}
        }
        let empty = Map::new();
        let wo = w.as_object().unwrap_or(&empty);
        let ro = r.as_object().unwrap_or(&empty);
        self.depth += 1;

        // type: the reader's types must cover the writer's (integer ⊂ number).
        match (types(w), types(r)) {
            (Some(wt), Some(rt)) => {
                for t in &wt {
                    let covered = rt.contains(t) || (t == "integer" && rt.contains("number"));
                    if !covered {
                        self.push(
                            path,
                            format!("type {t:?} is no longer accepted (reader types {rt:?})"),
                        );
                    }
                }
            }
            (None, Some(rt)) => self.push(path, format!("type narrowed to {rt:?}")),
            _ => {}
        }

        // enum: the reader's values must include the writer's.
        match (
            w.get("enum").and_then(Value::as_array),
            r.get("enum").and_then(Value::as_array),
        ) {
            (Some(we), Some(re)) => {
                for v in we {
                    if !re.contains(v) {
                        self.push(path, format!("enum value {v} was removed"));
                    }
                }
            }
            (None, Some(_)) => self.push(path, "an enum restriction was added"),
            _ => {}
        }

        // Lower bounds may only go down, upper bounds only up; new bounds narrow.
        for key in ["minimum", "exclusiveMinimum", "minLength", "minItems"] {
            match (num(w, key), num(r, key)) {
                (Some(wv), Some(rv)) if rv > wv => {
                    self.push(path, format!("{key} increased from {wv} to {rv}"))
                }
                (None, Some(rv)) => self.push(path, format!("{key} {rv} was added")),
                _ => {}
            }
        }
        for key in ["maximum", "exclusiveMaximum", "maxLength", "maxItems"] {
            match (num(w, key), num(r, key)) {
                (Some(wv), Some(rv)) if rv < wv => {
                    self.push(path, format!("{key} decreased from {wv} to {rv}"))
                }
                (None, Some(rv)) => self.push(path, format!("{key} {rv} was added")),
                _ => {}
            }
        }
        match (w.get("pattern"), r.get("pattern")) {
            (_, None) => {}
            (Some(a), Some(b)) if a == b => {}
            (_, Some(b)) => self.push(path, format!("pattern changed to {b}")),
        }

        // required: the reader may not require what the writer did not.
        let wreq: BTreeSet<&str> = w
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(rreq) = r.get("required").and_then(Value::as_array) {
            for name in rreq.iter().filter_map(Value::as_str) {
                if !wreq.contains(name) {
                    self.push(path, format!("property {name:?} became required"));
                }
            }
        }

        // properties with the open/closed content model.
        let empty_props = Map::new();
        let wprops = w
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty_props);
        let rprops = r
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty_props);
        let (w_closed, w_extra) = additional(w);
        let (r_closed, r_extra) = additional(r);
        for (name, wp) in wprops {
            let p = format!("{path}/properties/{name}");
            match rprops.get(name) {
                Some(rp) => self.compare(&p, wp, wdoc, rp, rdoc)?,
                None if r_closed => self.push(
                    &p,
                    "property removed from a closed content model (additionalProperties: false)",
                ),
                None => {
                    if let Some(extra) = r_extra {
                        self.compare(&p, wp, wdoc, extra, rdoc)?;
                    }
                }
            }
        }
        for (name, rp) in rprops {
            if wprops.contains_key(name) {
                continue;
            }
            let p = format!("{path}/properties/{name}");
            if w_closed {
                continue; // the writer never produces it
            }
            match w_extra {
                Some(extra) => self.compare(&p, extra, wdoc, rp, rdoc)?,
                None if !is_trivial(rp) => self.push(&p, "property added to an open content model"),
                None => {}
            }
        }
        if r_closed && !w_closed {
            self.push(
                path,
                "additionalProperties changed to false (the content model was closed)",
            );
        } else if let (Some(rx), false) = (r_extra, w_closed) {
            match w_extra {
                Some(wx) => {
                    self.compare(&format!("{path}/additionalProperties"), wx, wdoc, rx, rdoc)?
                }
                None if !is_trivial(rx) => self.push(path, "additionalProperties narrowed"),
                None => {}
            }
        }

        // items: a single schema for every element.
        match (w.get("items"), r.get("items")) {
            (Some(wi), Some(ri)) => self.compare(&format!("{path}/items"), wi, wdoc, ri, rdoc)?,
            (None, Some(ri)) if !is_trivial(ri) => {
                self.push(path, "an items restriction was added")
            }
            _ => {}
        }

        // Everything else (combinators, const, formats, …): changes count as incompatible.
        for (key, rv) in ro {
            if HANDLED.contains(&key.as_str()) {
                continue;
            }
            if wo.get(key) != Some(rv) {
                self.push(
                    path,
                    format!("keyword {key:?} changed (not analysed; compared by equality)"),
                );
            }
        }
        self.depth -= 1;
        Ok(())
    }
}

pub(crate) fn field_names(schema: &JsonSchema) -> Vec<String> {
    let mut out = Vec::new();
    names(&schema.root, "", &mut out, 0);
    for doc in schema.references.values() {
        names(doc, "", &mut out, 0);
    }
    out
}

fn names(node: &Value, prefix: &str, out: &mut Vec<String>, depth: usize) {
    let Some(object) = node.as_object() else {
        return;
    };
    if depth > 32 {
        return;
    }
    if let Some(props) = object.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.push(name.clone());
            out.push(path.clone());
            names(p, &path, out, depth + 1);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = object.get(key) {
            names(v, prefix, out, depth + 1);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(items) = object.get(key).and_then(Value::as_array) {
            items.iter().for_each(|v| names(v, prefix, out, depth + 1));
        }
    }
    for key in ["definitions", "$defs"] {
        if let Some(defs) = object.get(key).and_then(Value::as_object) {
            defs.values().for_each(|v| names(v, "", out, depth + 1));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{Level, Parsed, test_support::check_level};

    fn p(text: &str) -> Parsed {
        Parsed::Json(parse(text, &[]).unwrap())
    }

    fn backward(old: &str, new: &str) -> Vec<String> {
        check_level(Level::Backward, &p(new), &[(1, p(old))])
    }

    fn forward(old: &str, new: &str) -> Vec<String> {
        check_level(Level::Forward, &p(new), &[(1, p(old))])
    }

    const OPEN: &str =
        r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}"#;
    const CLOSED: &str = r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"],"additionalProperties":false}"#;

    #[test]
    fn invalid_json_schemas_are_refused() {
        assert!(parse(r#"{"type": 12}"#, &[]).is_err());
        assert!(parse(r#"{"minimum": "x"}"#, &[]).is_err());
        assert!(parse("[1]", &[]).is_err());
        assert!(parse(OPEN, &[]).is_ok());
    }

    #[test]
    fn adding_a_property_depends_on_the_content_model() {
        let added_closed = r#"{"type":"object","properties":{"id":{"type":"string"},"n":{"type":"integer"}},"required":["id"],"additionalProperties":false}"#;
        assert!(backward(CLOSED, added_closed).is_empty());
        let added_open = r#"{"type":"object","properties":{"id":{"type":"string"},"n":{"type":"integer"}},"required":["id"]}"#;
        let m = backward(OPEN, added_open);
        assert!(m.iter().any(|m| m.contains("open content model")), "{m:?}");
    }

    #[test]
    fn removing_a_property_from_a_closed_model_breaks_backward() {
        let empty_closed = r#"{"type":"object","additionalProperties":false}"#;
        assert!(!backward(CLOSED, empty_closed).is_empty());
        let empty_open = r#"{"type":"object"}"#;
        assert!(backward(OPEN, empty_open).is_empty());
        assert!(
            backward(CLOSED, OPEN).is_empty(),
            "opening is backward compatible"
        );
        assert!(!forward(CLOSED, OPEN).is_empty(), "…but not forward");
    }

    #[test]
    fn required_enum_bounds_and_types() {
        let newly_required = r#"{"type":"object","properties":{"id":{"type":"string"},"x":{}},"required":["id","x"]}"#;
        assert!(
            backward(OPEN, newly_required)
                .iter()
                .any(|m| m.contains("became required"))
        );
        let e2 = r#"{"enum":["a","b"]}"#;
        let e3 = r#"{"enum":["a","b","c"]}"#;
        assert!(backward(e2, e3).is_empty());
        assert!(!forward(e2, e3).is_empty());
        let lo = r#"{"type":"integer","minimum":0,"maximum":10}"#;
        let wide = r#"{"type":"number","minimum":-5,"maximum":20}"#;
        assert!(backward(lo, wide).is_empty());
        assert!(!backward(wide, lo).is_empty());
        let s = r#"{"type":"string","maxLength":10}"#;
        let s2 = r#"{"type":"string","maxLength":5}"#;
        assert!(!backward(s, s2).is_empty());
        assert!(!backward(r#"{"type":"string"}"#, r#"{"type":"integer"}"#).is_empty());
        let arr = r#"{"type":"array","items":{"type":"integer"}}"#;
        let arr2 = r#"{"type":"array","items":{"type":"string"}}"#;
        assert!(backward(arr, arr2).iter().any(|m| m.contains("/items")));
    }

    #[test]
    fn full_transitive_checks_all_versions() {
        let v1 = p(
            r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
        );
        let v2 = p(
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}"#,
        );
        let v3 = p(
            r#"{"type":"object","properties":{"b":{"type":"string"}},"additionalProperties":false}"#,
        );
        // v3 vs v2 backward: a removed from closed → incompatible in any case; use NONE-free check
        let earlier = [(2, v2), (1, v1)];
        let t = check_level(Level::FullTransitive, &v3, &earlier);
        assert!(t.iter().any(|m| m.contains("oldSchemaVersion: 1")), "{t:?}");
        assert!(!t.iter().any(|m| m.contains("oldSchemaVersion: 3")));
    }

    #[test]
    fn refs_resolve_locally_and_to_references() {
        let local = r##"{"$defs":{"id":{"type":"string"}},"type":"object","properties":{"id":{"$ref":"#/$defs/id"}}}"##;
        let local2 = r##"{"$defs":{"id":{"type":"integer"}},"type":"object","properties":{"id":{"$ref":"#/$defs/id"}}}"##;
        assert!(!backward(local, local2).is_empty());
        let address = ResolvedReference {
            name: "address.json".into(),
            schema: r#"{"type":"object","properties":{"city":{"type":"string"}}}"#.into(),
        };
        let customer = r#"{"type":"object","properties":{"home":{"$ref":"address.json"}}}"#;
        let parsed = parse(customer, std::slice::from_ref(&address)).unwrap();
        assert!(field_names(&parsed).contains(&"city".to_owned()));
        assert!(
            can_read(&parsed, &parsed, &mut Budget::new())
                .unwrap()
                .is_empty()
        );
        let unresolved = parse(customer, &[]).unwrap();
        assert!(
            !can_read(&unresolved, &unresolved, &mut Budget::new())
                .unwrap()
                .is_empty()
        );
    }

    /// `d1 … dN`, each with two properties that both `$ref` the next definition: 2^N paths.
    pub(crate) fn fan_out(n: usize) -> String {
        let mut defs = serde_json::Map::new();
        for i in 1..n {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(
                format!("d{i}"),
                serde_json::json!({"type": "object", "properties": {
                    "a": {"$ref": next}, "b": {"$ref": next}}}),
            );
        }
        defs.insert(format!("d{n}"), serde_json::json!({"type": "string"}));
        serde_json::json!({"type": "object", "$defs": defs,
            "properties": {"root": {"$ref": "#/$defs/d1"}}})
        .to_string()
    }

    #[test]
    fn ref_fan_out_compares_each_pair_once() {
        let schema = p(&fan_out(40));
        let mut budget = Budget::with(1_000, std::time::Duration::from_secs(60));
        let earlier = [(1, p(&fan_out(40)))];
        let messages =
            crate::schema::check_level(Level::FullTransitive, &schema, &earlier, &mut budget)
                .unwrap();
        assert!(messages.is_empty(), "{messages:?}");
        // A change deep down is still found, once, at the first path that reaches it.
        let changed =
            fan_out(40).replace(r#""d40":{"type":"string"}"#, r#""d40":{"type":"integer"}"#);
        assert_ne!(changed, fan_out(40));
        let mut budget = Budget::with(1_000, std::time::Duration::from_secs(60));
        let messages =
            crate::schema::check_level(Level::Backward, &p(&changed), &earlier, &mut budget)
                .unwrap();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("/root/properties/a/properties/a"),
            "{messages:?}"
        );
    }

    #[test]
    fn work_beyond_the_budget_is_refused_with_a_typed_error() {
        let properties: serde_json::Map<String, Value> = (0..500)
            .map(|i| (format!("p{i}"), serde_json::json!({"type": "string"})))
            .collect();
        let wide = serde_json::json!({"type": "object", "properties": properties}).to_string();
        let mut budget = Budget::with(100, std::time::Duration::from_secs(60));
        let refused = can_read(&p_json(&wide), &p_json(&wide), &mut budget);
        assert!(
            matches!(refused, Err(RegistryError::TooComplex(_))),
            "{refused:?}"
        );
        assert!(
            can_read(&p_json(&wide), &p_json(&wide), &mut Budget::new())
                .unwrap()
                .is_empty()
        );
    }

    fn p_json(text: &str) -> JsonSchema {
        parse(text, &[]).unwrap()
    }
}
