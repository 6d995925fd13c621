//! The Confluent wire format: magic byte 0, the schema id (4 bytes, big endian), for Protobuf
//! the message indexes (zigzag varints), then the payload.

use std::sync::Arc;

use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    RegistryError, avro,
    datum::{self, Datum},
    protobuf,
    schema::Parsed,
    store,
};

/// The schema id and the rest of a framed message.
pub(crate) fn split(bytes: &[u8]) -> Result<(i32, &[u8]), RegistryError> {
    match bytes {
        [0, a, b, c, d, rest @ ..] => Ok((i32::from_be_bytes([*a, *b, *c, *d]), rest)),
        [_, ..] if bytes.len() >= 5 => Err(RegistryError::Decode("unknown magic byte".into())),
        _ => Err(RegistryError::Decode(
            "shorter than the 5-byte header".into(),
        )),
    }
}

fn varint(bytes: &mut &[u8]) -> Result<i64, RegistryError> {
    datum::zigzag(bytes).map_err(|e| match e {
        RegistryError::Decode(m) => RegistryError::Decode(format!("message indexes: {m}")),
        e => e,
    })
}

/// Confluent's message indexes: a count then that many indexes; count 0 means `[0]`.
pub(crate) fn message_indexes(bytes: &mut &[u8]) -> Result<Vec<i64>, RegistryError> {
    let count = varint(bytes)?;
    if count == 0 {
        return Ok(vec![0]);
    }
    if !(1..=100).contains(&count) {
        return Err(RegistryError::Decode(format!("{count} message indexes")));
    }
    (0..count).map(|_| varint(bytes)).collect()
}

/// The schema id a framed message names, if it is framed (magic byte 0 and a payload).
pub fn schema_id(bytes: &[u8]) -> Option<i32> {
    match bytes {
        [0, a, b, c, d, _, ..] => Some(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// A writer schema, parsed, ready to decode the messages framed with its id. Cheap to clone.
#[derive(Clone)]
pub struct WriterSchema(pub(crate) Arc<Parsed>);

impl std::fmt::Debug for WriterSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterSchema").finish_non_exhaustive()
    }
}

impl WriterSchema {
    /// Decodes a framed message (header included) within the per-message bounds
    /// ([`crate::MAX_DECODE_BYTES`], [`crate::MAX_DECODE_DEPTH`]). The caller chose this schema
    /// for the id the message names.
    pub fn decode(&self, framed: &[u8]) -> Result<Datum, RegistryError> {
        let (_, payload) = split(framed)?;
        decode_payload(&self.0, payload)
    }
}

/// The writer schema of an id in the embedded registry.
pub async fn writer_schema(
    conn: &mut PgConnection,
    id: i32,
) -> Result<WriterSchema, RegistryError> {
    Ok(WriterSchema(Arc::new(
        store::parsed_schema(conn, id).await?,
    )))
}

/// Decodes a framed Kafka message to JSON with its writer schema (Avro datum, JSON document,
/// Protobuf message) from the embedded registry, whatever id it names.
pub async fn decode_message(conn: &mut PgConnection, bytes: &[u8]) -> Result<Value, RegistryError> {
    let (id, payload) = split(bytes)?;
    decode_payload(&store::parsed_schema(conn, id).await?, payload).map(Datum::into_json)
}

/// Decodes what follows the 5-byte header with the writer schema.
pub(crate) fn decode_payload(schema: &Parsed, mut payload: &[u8]) -> Result<Datum, RegistryError> {
    match schema {
        Parsed::Avro(schema) => avro::decode(schema, payload),
        Parsed::Json(schema) => {
            datum::parse_json(payload).map(|value| datum::from_json_schema(schema, value))
        }
        Parsed::Protobuf(file) => {
            let indexes = message_indexes(&mut payload)?;
            let message = protobuf::message_at(file, &indexes)?;
            protobuf::decode(message, payload)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_and_indexes() {
        let framed = [0u8, 0, 0, 1, 2, 0, 0x08, 0x01];
        let (id, mut rest) = split(&framed).unwrap();
        assert_eq!(id, 258);
        assert_eq!(message_indexes(&mut rest).unwrap(), vec![0]);
        assert_eq!(rest, &[0x08, 0x01]);
        // count 2 (zigzag 4), indexes 1 (2) and 0 (0)
        let mut bytes: &[u8] = &[4, 2, 0, 9];
        assert_eq!(message_indexes(&mut bytes).unwrap(), vec![1, 0]);
        assert_eq!(bytes, &[9]);
        assert!(split(&[1, 0, 0, 0, 1]).is_err());
        assert!(split(&[0, 0]).is_err());
    }
}
