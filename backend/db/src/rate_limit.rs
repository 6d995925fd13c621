//! Fixed-window counters in PostgreSQL (`rate_limit_windows`), so every replica shares them.
//! The API limits callers by address before it runs anything; domain crates limit what an
//! authorized caller may cause (mail sent per account, per organization, per recipient).

use sqlx::PgConnection;

/// One limit: at most `max` hits per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter; keys of different limits never share a window.
    pub name: &'static str,
    pub max: i32,
    pub window_secs: i32,
}

/// What one counted hit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The hit opened a new window (a good moment to forget finished ones).
    pub first_in_window: bool,
    /// Seconds until the window ends, when the hit is over the limit; `None` when allowed.
    pub retry_after_secs: Option<u64>,
}

/// Counts a hit on `key` under `limit`. Inside a transaction the hit counts only if
/// the transaction commits (a refused or failed operation does not use up the budget).
/// Finished windows are removed by [`forget_finished`].
pub async fn hit(conn: &mut PgConnection, limit: Limit, key: &str) -> Result<Hit, sqlx::Error> {
    let (hits, remaining): (i32, f64) = sqlx::query_as(
        "insert into rate_limit_windows (key, window_start, hits)
         values ($1, to_timestamp(floor(extract(epoch from now()) / $2) * $2), 1)
         on conflict (key, window_start) do update set hits = rate_limit_windows.hits + 1
         returning hits, extract(epoch from (window_start + make_interval(secs => $2) - now()))::float8",
    )
    .bind(format!("{}:{key}", limit.name))
    .bind(limit.window_secs)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Hit {
        first_in_window: hits == 1,
        retry_after_secs: (hits > limit.max).then(|| remaining.ceil().max(1.0) as u64),
    })
}

/// Removes windows that ended more than a day ago (run outside transactions: losing it is
/// harmless, and a failure must not abort a caller's transaction).
pub async fn forget_finished(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("delete from rate_limit_windows where window_start < now() - interval '1 day'")
        .execute(conn)
        .await?;
    Ok(())
}
