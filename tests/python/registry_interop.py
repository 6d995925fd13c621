"""Confluent's own Python client against Tributary's schema registry.

Usage: registry_interop.py <registry url> <org API token> <subject prefix>
Registers Avro and JSON schemas, reads them back by id, subject and version, checks
compatibility, and round-trips records through Confluent's serializers. Prints one JSON object
with what it saw; exits non-zero on the first surprise.
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

url, token, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
client = SchemaRegistryClient({"url": url, "basic.auth.user.info": f"interop:{token}"})

AVRO_V1 = json.dumps({
    "type": "record", "name": "Order", "namespace": "interop",
    "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"}],
})
AVRO_V2_OK = json.dumps({
    "type": "record", "name": "Order", "namespace": "interop",
    "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"},
               {"name": "note", "type": "string", "default": ""}],
})
AVRO_V2_BAD = json.dumps({
    "type": "record", "name": "Order", "namespace": "interop",
    "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"},
               {"name": "note", "type": "string"}],
})
JSON_V1 = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Event", "type": "object",
    "properties": {"kind": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["kind"],
})

def check(condition, what):
    if not condition:
        print(json.dumps({"failed": what}))
        sys.exit(1)

orders = f"{prefix}orders-value"
events = f"{prefix}events-value"
out = {}

avro_id = client.register_schema(orders, Schema(AVRO_V1, "AVRO"))
check(client.register_schema(orders, Schema(AVRO_V1, "AVRO")) == avro_id, "idempotent registration")
fetched = client.get_schema(avro_id)
check(fetched.schema_type == "AVRO", f"schema type {fetched.schema_type}")
check(json.loads(fetched.schema_str) == json.loads(AVRO_V1), "schema by id")
latest = client.get_latest_version(orders)
check(latest.version == 1 and latest.schema_id == avro_id, "latest version")
check(client.get_version(orders, 1).schema_id == avro_id, "version 1")
check(client.lookup_schema(orders, Schema(AVRO_V1, "AVRO")).version == 1, "lookup")
out["compatible"] = client.test_compatibility(orders, Schema(AVRO_V2_OK, "AVRO"))
out["incompatible"] = client.test_compatibility(orders, Schema(AVRO_V2_BAD, "AVRO"))
try:
    client.register_schema(orders, Schema(AVRO_V2_BAD, "AVRO"))
    check(False, "incompatible schema was accepted")
except SchemaRegistryError as e:
    out["incompatible_error_code"] = e.error_code
out["versions"] = client.get_versions(orders)
out["subjects"] = sorted(s for s in client.get_subjects() if s.startswith(prefix))

topic = f"{prefix}orders"
serializer = AvroSerializer(client, AVRO_V1, conf={"auto.register.schemas": False, "use.latest.version": True})
deserializer = AvroDeserializer(client)
ctx = SerializationContext(topic, MessageField.VALUE)
record = {"id": "o-1", "qty": 3}
payload = serializer(record, ctx)
check(payload[0] == 0 and int.from_bytes(payload[1:5], "big") == avro_id, "Avro wire header")
out["avro_id"] = avro_id
out["avro_payload_hex"] = payload.hex()
out["avro_roundtrip"] = deserializer(payload, ctx)

json_serializer = JSONSerializer(JSON_V1, client)
json_deserializer = JSONDeserializer(JSON_V1, schema_registry_client=client)
event_ctx = SerializationContext(f"{prefix}events", MessageField.VALUE)
event = {"kind": "click", "n": 7}
json_payload = json_serializer(event, event_ctx)
json_id = int.from_bytes(json_payload[1:5], "big")
check(client.get_schema(json_id).schema_type == "JSON", "JSON schema type")
out["json_id"] = json_id
out["json_payload_hex"] = json_payload.hex()
out["json_roundtrip"] = json_deserializer(json_payload, event_ctx)
out["json_subject_versions"] = client.get_versions(events)

print(json.dumps(out))
