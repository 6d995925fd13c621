//! Integration tests against the real PostgreSQL and Kafka started by `cargo xtask test`.

mod binary;
mod graphql;
mod health;
mod kafka_enforcement;
mod migrations;
mod portal;
