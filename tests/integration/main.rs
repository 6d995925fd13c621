//! Integration tests against the real PostgreSQL and Kafka started by `cargo xtask test`.

mod authorization;
mod binary;
mod bounded_work;
mod graphql;
mod health;
mod identity;
mod kafka_enforcement;
mod mail;
mod migrations;
mod portal;
mod registry;
mod registry_conformance;
mod streams;
mod subscriptions;
