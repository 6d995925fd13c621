//! Live samples under anonymous load: 16 concurrent anonymous clients each repeat one query
//! with 8 `samples` aliases (limits 3 to 10) on every edge of the catalog (the 4 demo streams,
//! fed by the demo producer), while a probe measures `/readyz`. Baseline measured in the same
//! run: `/readyz` with no load. Target: `/readyz` p99 under the sample load < 50 ms, and every
//! sample query answered without error.
//!
//! Run with `cargo xtask bench` (starts PostgreSQL and one Kafka broker).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;
use tributary_tests::{TestApp, kafka_config};

const CLIENTS: usize = 16;
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
/// Pause between two `/readyz` probes (a load balancer probes far less often).
const PROBE_EVERY: Duration = Duration::from_millis(20);
const TARGET_READYZ_P99: Duration = Duration::from_millis(50);

fn document() -> String {
    let aliases: Vec<String> = (0..8)
        .map(|i| {
            format!(
                "{}: samples(limit: {}) {{ offset key value }}",
                char::from(b'a' + i),
                3 + i
            )
        })
        .collect();
    format!(
        "{{ catalog(first: 4) {{ edges {{ node {{ slug {} }} }} }} }}",
        aliases.join(" ")
    )
}

struct Latencies {
    count: usize,
    p50: Duration,
    p99: Duration,
    elapsed: Duration,
}

fn summarize(mut all: Vec<Duration>, elapsed: Duration) -> Latencies {
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Latencies {
        count: all.len(),
        p50: at(0.50),
        p99: at(0.99),
        elapsed,
    }
}

/// Probes `/readyz` until `until`; every answer must say ready.
async fn probe(client: reqwest::Client, url: String, until: Instant) -> Latencies {
    let started = Instant::now();
    let mut all = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let response = client.get(&url).send().await.expect("readyz answers");
        let status = response.status();
        let _ = response.bytes().await;
        all.push(t.elapsed());
        assert!(status.is_success(), "/readyz said {status}");
        tokio::time::sleep(PROBE_EVERY).await;
    }
    summarize(all, started.elapsed())
}

/// POSTs the query; the whole JSON answer.
async fn ask(client: &reqwest::Client, url: &str, body: &serde_json::Value) -> serde_json::Value {
    client
        .post(url)
        .json(body)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json")
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
}

#[tokio::main]
async fn main() {
    let app = TestApp::spawn().await;
    app.seed_demo().await;
    let stop = CancellationToken::new();
    let producer = {
        let (pool, stop) = (app.pool.clone(), stop.clone());
        tokio::spawn(async move {
            tributary_server::demo::produce(
                &pool,
                &kafka_config(),
                Duration::from_millis(100),
                stop,
            )
            .await
        })
    };
    // Every demo topic gets messages before the first read.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let client = reqwest::Client::new();
    let readyz = app.url("/readyz");
    let graphql = app.url("/graphql");
    let body = serde_json::json!({ "query": document() });
    // What one answer looks like (and that it is complete).
    let first = ask(&client, &graphql, &body).await;
    let edges = first["data"]["catalog"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        first["errors"].is_null() && edges.len() == 4,
        "the alias query must work: {first}"
    );
    println!(
        "streams: {}; samples per alias on the first: {}",
        edges
            .iter()
            .filter_map(|e| e["node"]["slug"].as_str())
            .collect::<Vec<_>>()
            .join(", "),
        (0..8)
            .map(|i| edges[0]["node"][char::from(b'a' + i).to_string()]
                .as_array()
                .map_or(0, Vec::len)
                .to_string())
            .collect::<Vec<_>>()
            .join("/")
    );

    println!("/readyz alone for {} s (baseline)…", MEASURE.as_secs());
    let idle = probe(client.clone(), readyz.clone(), Instant::now() + MEASURE).await;

    println!(
        "{CLIENTS} anonymous clients × the 8-alias query for {} s (after {} s warm-up), /readyz probed alongside…",
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    let tally = Arc::new(Tally::default());
    let load_started = Instant::now();
    let measure_from = load_started + WARMUP;
    let load_until = measure_from + MEASURE;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url, body, tally) =
                (client.clone(), graphql.clone(), body.clone(), tally.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < load_until {
                    let t = Instant::now();
                    let answer = ask(&client, &url, &body).await;
                    if t >= measure_from {
                        latencies.push(t.elapsed());
                        if answer["errors"].is_null() && answer["data"]["catalog"].is_object() {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        } else {
                            if tally.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                                println!("first failed answer: {answer}");
                            }
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let reads_before = app.catalog.sample_read_stats();
    let loaded = probe(client.clone(), readyz.clone(), load_until).await;
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.expect("client"));
    }
    let reads = app.catalog.sample_read_stats();
    let queries = summarize(all, MEASURE);
    stop.cancel();
    let produced = producer.await.expect("producer").expect("demo producer");

    let rps = |l: &Latencies| l.count as f64 / l.elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("| variant | requests/s | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for (name, l) in [
        ("/readyz, idle (baseline)", &idle),
        ("/readyz, under the sample load", &loaded),
        ("8-alias samples query × 4 streams, 16 clients", &queries),
    ] {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            rps(l),
            ms(l.p50),
            ms(l.p99)
        );
    }
    let (ok, failed) = (
        tally.ok.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
    );
    println!(
        "sample queries: {ok} answered, {failed} with errors; {} topic reads and {} consumers created while measuring ({} aliases asked); {produced} demo messages produced",
        reads.topic_reads - reads_before.topic_reads,
        reads.consumers_created - reads_before.consumers_created,
        (ok + failed) * 8 * 4,
    );
    let met = loaded.p99 < TARGET_READYZ_P99 && failed == 0;
    println!(
        "ratio /readyz p99 under load / idle: {:.2}; /readyz p99 under load {:.2} ms (target < {} ms, no failed query): {}",
        loaded.p99.as_secs_f64() / idle.p99.as_secs_f64().max(1e-6),
        ms(loaded.p99),
        TARGET_READYZ_P99.as_millis(),
        if met { "met" } else { "NOT met" }
    );
    // A missed target fails the run (`cargo xtask bench` then exits non-zero).
    if !met {
        std::process::exit(1);
    }
}
