//! Compatibility checks of schemas built to explode, against their baseline in the same run.
//!
//! `fan-out N`: definitions `d1…dN`, each with two properties that both `$ref` the next one, so
//! 2^N paths lead to `dN` (4 KB of text at N = 40). Before the checker compared each (writer,
//! reader) pair once, `checkStreamSchema` with such a schema took 0.09 s at N = 12, 2.6 s at
//! N = 18 and never ended at N = 40. `chain N` (the baseline): the same definitions with one
//! `$ref` each, so N paths. Each is registered, then checked against itself through the
//! registry's store (`check_compatibility`, which parses and compares on the blocking pool).
//!
//! Run with `cargo xtask bench` (starts PostgreSQL). Target: at every N the fan-out check costs
//! at most 3× the chain check; the bench exits non-zero otherwise.

use std::time::{Duration, Instant};

use serde_json::json;
use tributary_registry::{Caller, SchemaInput, SchemaType, VersionSelector};
use tributary_tests::TestDb;

const RUNS: usize = 25;
const TARGET_RATIO: f64 = 3.0;

fn schema(n: usize, fan_out: bool) -> String {
    let mut defs = serde_json::Map::new();
    for i in 1..n {
        let next = json!({ "$ref": format!("#/$defs/d{}", i + 1) });
        let b = if fan_out {
            next.clone()
        } else {
            json!({ "type": "string" })
        };
        defs.insert(
            format!("d{i}"),
            json!({ "type": "object", "properties": { "a": next, "b": b } }),
        );
    }
    defs.insert(format!("d{n}"), json!({ "type": "string" }));
    json!({ "type": "object", "$defs": defs, "properties": { "root": { "$ref": "#/$defs/d1" } } })
        .to_string()
}

/// Median time of checking `text` against itself under `subject`.
async fn median_check(pool: &sqlx::PgPool, subject: &str, text: &str) -> Duration {
    let input = || SchemaInput {
        schema_type: SchemaType::Json,
        schema: text.to_owned(),
        references: Vec::new(),
    };
    let mut conn = pool.acquire().await.expect("conn");
    tributary_registry::register(&mut conn, subject, input(), &Caller::Operator)
        .await
        .expect("register");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let report = tributary_registry::check_compatibility(
            &mut conn,
            subject,
            input(),
            VersionSelector::Latest,
            &Caller::Operator,
        )
        .await
        .expect("check");
        times.push(started.elapsed());
        assert!(report.is_compatible, "{:?}", report.messages);
    }
    times.sort();
    times[RUNS / 2]
}

#[tokio::main]
async fn main() {
    let (_db, pool) = TestDb::migrated().await;
    println!(
        "| N | fan-out bytes | fan-out check (median of {RUNS}) | chain check (baseline) | ratio |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mut missed = false;
    for n in [12, 16, 18, 24, 32, 40] {
        let fan = schema(n, true);
        let chain = schema(n, false);
        let fan_time = median_check(&pool, &format!("fan{n}-value"), &fan).await;
        let chain_time = median_check(&pool, &format!("chain{n}-value"), &chain).await;
        let ratio = fan_time.as_secs_f64() / chain_time.as_secs_f64();
        missed |= ratio > TARGET_RATIO;
        println!(
            "| {n} | {} | {:.2} ms | {:.2} ms | {ratio:.2} |",
            fan.len(),
            fan_time.as_secs_f64() * 1e3,
            chain_time.as_secs_f64() * 1e3,
        );
    }
    if missed {
        eprintln!("target missed: a fan-out check cost more than {TARGET_RATIO}× its chain");
        std::process::exit(1);
    }
}
