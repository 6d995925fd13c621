//! Catalog search at scale: 100 000 generated streams, 16 concurrent clients, p50/p99 and
//! throughput of `catalogSearch` through the whole API (HTTP + GraphQL), against its baseline
//! measured in the same run: the same search called directly on the catalog service (same SQL,
//! no HTTP, no GraphQL). Target: GraphQL p99 < 25 ms.
//!
//! Run with `cargo xtask bench` (starts PostgreSQL; Kafka is not touched by search).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::SecretString;
use tributary_api::{AppState, DevFeatures, HttpLimits};
use tributary_catalog::{Catalog, SearchQuery};
use tributary_identity::Identity;
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};
use tributary_tests::{TestDb, jwt_config, secret_box};

const STREAMS: i64 = 100_000;
const CLIENTS: usize = 16;
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);

/// What clients search for, in rotation: words, typos, field names, filters, browsing.
fn workload() -> Vec<(Option<&'static str>, serde_json::Value)> {
    use serde_json::json;
    vec![
        (Some("weather"), json!({})),
        (Some("wether berlin"), json!({})),
        (Some("payments"), json!({ "categories": ["finance"] })),
        (Some("customer_email"), json!({})),
        (Some("telemetry gps"), json!({})),
        (Some("ordrs"), json!({ "free": true })),
        (Some("live energy"), json!({ "schemaTypes": ["AVRO"] })),
        // A word nobody searched before (`#` becomes the request number): stemmed by
        // PostgreSQL, looked up for typos, matches nothing.
        (Some("stati#ons berlin"), json!({})),
        (None, json!({ "categories": ["mobility"], "tags": ["gps"] })),
        (None, json!({ "providers": ["provider-7"] })),
        (None, json!({})),
    ]
}

/// What the load generator checks of an answer.
#[derive(serde::Deserialize)]
struct Answer {
    data: Option<AnswerData>,
    errors: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct AnswerData {
    #[serde(rename = "catalogSearch")]
    search: AnswerSearch,
}

#[derive(serde::Deserialize)]
struct AnswerSearch {
    #[serde(rename = "totalCount")]
    total: i64,
}

const DOCUMENT: &str = "query($q: String, $f: CatalogFilter) { catalogSearch(query: $q, filter: $f, first: 20) { totalCount facets { name values { value count } } edges { node { id name slug summary category tags provider { name } } } } }";

async fn seed(pool: &sqlx::PgPool) {
    let started = Instant::now();
    sqlx::query(
        "insert into organizations (slug, name) select 'provider-' || g, 'Provider ' || g from generate_series(1, 500) g",
    )
    .execute(pool)
    .await
    .expect("orgs");
    let cluster: uuid::Uuid = sqlx::query_scalar(
        "insert into clusters (name, bootstrap_servers, security_protocol) values ('bench', '127.0.0.1:9', 'SASL_PLAINTEXT') returning id",
    )
    .fetch_one(pool)
    .await
    .expect("cluster");
    // Names, descriptions, tags and fields from realistic vocabularies: a word of a name is
    // shared by about 1 % of the catalog, as in a real marketplace (not by a sixteenth of it).
    let domains: Vec<&str> = "weather payments orders telemetry energy retail fleet stations trades quotes sensors clicks inventory shipments meter rates flights trains parking traffic air quality water grid solar wind tickets bookings reviews ratings prices auctions bids loans mortgages claims policies patients visits prescriptions labs devices logins alerts incidents vulnerabilities scans crypto equities futures options bonds forex commodities shipping containers ports vessels deliveries couriers rides scooters bikes charging batteries emissions noise footfall sales returns refunds subscriptions churn sessions searches impressions campaigns leads invoices salaries".split(' ').collect();
    let qualifiers: Vec<&str> = "live hourly daily realtime raw enriched aggregated anonymised historical validated streaming regional global local premium basic detailed summarised curated open".split(' ').collect();
    let cities: Vec<&str> = "amsterdam berlin paris london madrid rome vienna prague warsaw lisbon dublin oslo stockholm helsinki copenhagen brussels zurich geneva milan munich hamburg frankfurt lyon marseille barcelona valencia porto seville athens budapest bucharest sofia zagreb belgrade riga tallinn vilnius krakow gdansk rotterdam antwerp ghent utrecht eindhoven cologne dresden leipzig stuttgart nuremberg bologna turin naples florence venice glasgow edinburgh manchester liverpool leeds bristol cardiff belfast cork galway bergen gothenburg malmo aarhus tampere turku basel bern lausanne graz linz salzburg innsbruck brno ostrava bratislava kosice ljubljana split dubrovnik thessaloniki patras varna plovdiv cluj iasi timisoara debrecen szeged pecs lodz wroclaw poznan katowice lublin".split(' ').collect();
    let tags: Vec<&str> = "gps eu us apac cards orders fx sensors cities b2b b2c realtime hourly iot mobile web pos ecommerce logistics health finance energy climate transport maritime aviation rail retail media security fraud pricing marketing crm erp hr telco satellite smartgrid wearables".split(' ').collect();
    let prefixes = [
        "customer", "order", "store", "device", "station", "vehicle", "account", "merchant",
        "payment", "trip", "sensor", "user", "session", "product", "shipment",
    ];
    let suffixes = [
        "id",
        "email",
        "name",
        "ts",
        "amount_minor",
        "lat",
        "lon",
        "status",
        "type",
        "code",
        "count",
        "zip",
        "country",
        "currency",
        "score",
    ];
    let fields: Vec<String> = prefixes
        .iter()
        .flat_map(|p| suffixes.iter().map(move |s| format!("{p}_{s}")))
        .collect();
    sqlx::query(
        "insert into streams (provider_org_id, cluster_id, slug, name, summary, topic, status, visibility, category, tags,
                              description_md, schema_fields, value_schema_type, pricing_models, topic_provisioned_at, published_at, provider_name)
         select o.id, $1, 's-' || g,
                initcap($3[1 + g % 20]) || ' ' || $4[1 + (g / 20) % 80] || ' ' || initcap($5[1 + (g / 1600) % 100]),
                initcap($4[1 + (g / 20) % 80]) || ' data from ' || initcap($5[1 + (g / 1600) % 100]) || ', ' || $3[1 + g % 20],
                'bench.' || g, 'published',
                case when g % 10 = 7 then 'unlisted' else 'public' end,
                (array['finance','mobility','iot','retail','weather','energy','healthcare','logistics','media','security'])[1 + g % 10],
                array[$6[1 + g % 40], $6[1 + (g / 40) % 40]],
                'Every ' || $4[1 + (g / 7) % 80] || ' event with ' || $4[1 + (g / 13) % 80] || ' context, published as it happens.',
                array[$7[1 + g % 225], $7[1 + (g / 225) % 225], $7[1 + (g / 17) % 225]],
                (array['AVRO','JSON','PROTOBUF'])[1 + g % 3],
                case when g % 3 = 0 then array['free'] when g % 3 = 1 then array['usage'] else array['flat', 'free'] end,
                now(), now() - (g || ' seconds')::interval, o.name
           from generate_series(1, $2) g
           join lateral (select id, name from organizations where slug = 'provider-' || (1 + g % 500)) o on true",
    )
    .bind(cluster)
    .bind(STREAMS)
    .bind(&qualifiers)
    .bind(&domains)
    .bind(&cities)
    .bind(&tags)
    .bind(&fields)
    .execute(pool)
    .await
    .expect("streams");
    sqlx::query("analyze").execute(pool).await.expect("analyze");
    println!(
        "seeded {STREAMS} streams (500 providers) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Resident memory of this process (API, index and clients), MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

struct Outcome {
    requests: usize,
    p50: Duration,
    p99: Duration,
    elapsed: Duration,
}

/// Runs `CLIENTS` loops of `one` (argument: request number) for the warm-up, then measures.
async fn load<F, Fut>(one: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let counter = Arc::new(AtomicUsize::new(0));
    let run = |until: Instant, record: bool| {
        (0..CLIENTS)
            .map(|_| {
                let (one, counter) = (one.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while Instant::now() < until {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let started = Instant::now();
                        one(n).await;
                        if record {
                            latencies.push(started.elapsed());
                        }
                    }
                    latencies
                })
            })
            .collect::<Vec<_>>()
    };
    for task in run(Instant::now() + WARMUP, false) {
        task.await.expect("warm-up");
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for task in run(started + MEASURE, true) {
        all.extend(task.await.expect("client"));
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Outcome {
        requests: all.len(),
        p50: at(0.50),
        p99: at(0.99),
        elapsed,
    }
}

#[tokio::main]
async fn main() {
    let (db, _migrated) = TestDb::migrated().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect(&db.url)
        .await
        .expect("pool");
    seed(&pool).await;

    let identity = Identity::new(pool.clone(), jwt_config(), "http://bench.test".into());
    let catalog = Catalog::new(
        pool.clone(),
        identity.clone(),
        secret_box(),
        Duration::from_secs(1),
    );
    let kafka = KafkaAdmin::new(
        &KafkaConfig {
            bootstrap_servers: "127.0.0.1:9".into(),
            security_protocol: SecurityProtocol::SaslPlaintext,
            username: "bench".into(),
            password: SecretString::from("bench"),
            ca_location: None,
            ca_pem: None,
        },
        Duration::from_secs(1),
    )
    .expect("admin client");
    let state = AppState::new(
        pool.clone(),
        kafka,
        identity,
        catalog.clone(),
        HttpLimits::default(),
        DevFeatures::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            tributary_api::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    // The first search loads the index; its cost and the memory it takes.
    let before = rss_mib();
    let started = Instant::now();
    catalog
        .search(
            None,
            &SearchQuery {
                first: 1,
                ..Default::default()
            },
        )
        .await
        .expect("first search");
    println!(
        "index load (first search): {:.0} ms; resident memory {before:.0} MiB before, {:.0} MiB after",
        started.elapsed().as_secs_f64() * 1e3,
        rss_mib()
    );

    let work = Arc::new(workload());
    println!(
        "catalog search, {STREAMS} streams, {CLIENTS} concurrent clients, {} s each (database {})",
        MEASURE.as_secs(),
        db.name
    );
    let direct = {
        let (catalog, work) = (catalog.clone(), work.clone());
        load(move |n| {
            let (catalog, work) = (catalog.clone(), work.clone());
            async move {
                let (text, filter) = &work[n % work.len()];
                let text = text.map(|t| t.replace('#', &n.to_string()));
                let list = |k: &str| -> Vec<String> {
                    filter[k]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let page = catalog
                    .search(
                        None,
                        &SearchQuery {
                            text,
                            categories: list("categories"),
                            tags: list("tags"),
                            providers: list("providers"),
                            schema_types: list("schemaTypes"),
                            pricing_models: Vec::new(),
                            free: filter["free"].as_bool(),
                            sort: Default::default(),
                            first: 20,
                            offset: 0,
                        },
                    )
                    .await
                    .expect("search");
                assert!(page.total >= 0);
            }
        })
        .await
    };
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/graphql");
    let graphql = {
        let work = work.clone();
        load(move |n| {
            let (client, url, work) = (client.clone(), url.clone(), work.clone());
            async move {
                let (text, filter) = &work[n % work.len()];
                let text = text.map(|t| t.replace('#', &n.to_string()));
                let body = serde_json::json!({ "query": DOCUMENT, "variables": { "q": text, "f": filter } });
                let bytes = client
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .expect("request")
                    .bytes()
                    .await
                    .expect("body");
                // A typed read skips what it does not need without building a JSON tree, so
                // the load generator takes less of the CPU it shares with the server.
                let answer: Answer = serde_json::from_slice(&bytes).expect("json");
                assert!(
                    answer.errors.is_none() && answer.data.is_some_and(|d| d.search.total >= 0),
                    "search failed: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        })
        .await
    };
    // Hit counts of the workload, so the table says what was searched.
    let mut hits = Vec::new();
    for (text, filter) in work.iter() {
        let body =
            serde_json::json!({ "query": DOCUMENT, "variables": { "q": text, "f": filter } });
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("http://{addr}/graphql"))
            .json(&body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        hits.push(format!(
            "{}{} → {}",
            text.unwrap_or("(browse)"),
            if filter.as_object().is_some_and(|f| !f.is_empty()) {
                format!(" {filter}")
            } else {
                String::new()
            },
            answer["data"]["catalogSearch"]["totalCount"]
        ));
    }
    println!("workload (query → matches): {}", hits.join("; "));
    let rps = |r: &Outcome| r.requests as f64 / r.elapsed.as_secs_f64();
    println!("| variant | requests/s | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for (name, r) in [
        ("catalog service, direct (baseline)", &direct),
        ("GraphQL over HTTP", &graphql),
    ] {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            rps(r),
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
    println!("resident memory after the runs: {:.0} MiB", rss_mib());
    println!(
        "ratio GraphQL / direct: {:.1} %; GraphQL p99 {:.2} ms (target < 25 ms): {}",
        rps(&graphql) / rps(&direct) * 100.0,
        graphql.p99.as_secs_f64() * 1e3,
        if graphql.p99 < Duration::from_millis(25) {
            "met"
        } else {
            "NOT met"
        }
    );
    // A missed target fails the run (`cargo xtask bench` then exits non-zero).
    if graphql.p99 >= Duration::from_millis(25) {
        std::process::exit(1);
    }
}
