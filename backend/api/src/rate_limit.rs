//! Fixed-window rate limits kept in PostgreSQL, so every API replica shares them. Limits are per
//! client address and per (address, account): an attacker elsewhere cannot lock a user out.

use sqlx::PgPool;

use crate::ApiError;

/// One limit: at most `max` hits per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: i32,
    pub window_secs: i32,
}

pub const SIGN_IN_PER_ADDRESS: Limit = Limit {
    name: "sign-in",
    max: 30,
    window_secs: 300,
};
pub const SIGN_IN_PER_ACCOUNT: Limit = Limit {
    name: "sign-in-account",
    max: 10,
    window_secs: 300,
};
pub const SIGN_UP_PER_ADDRESS: Limit = Limit {
    name: "sign-up",
    max: 10,
    window_secs: 3600,
};
pub const TOKENS_PER_ADDRESS: Limit = Limit {
    name: "tokens",
    max: 60,
    window_secs: 60,
};

/// Counts a hit on `key` and refuses it once the window is full.
pub async fn hit(pool: &PgPool, limit: Limit, key: &str) -> Result<(), ApiError> {
    let (hits, remaining): (i32, f64) = sqlx::query_as(
        "insert into rate_limit_windows (key, window_start, hits)
         values ($1, to_timestamp(floor(extract(epoch from now()) / $2) * $2), 1)
         on conflict (key, window_start) do update set hits = rate_limit_windows.hits + 1
         returning hits, extract(epoch from (window_start + make_interval(secs => $2) - now()))::float8",
    )
    .bind(format!("{}:{key}", limit.name))
    .bind(limit.window_secs)
    .fetch_one(pool)
    .await?;
    if hits == 1 {
        // Opportunistic clean-up of finished windows; losing it is harmless.
        let _ = sqlx::query(
            "delete from rate_limit_windows where window_start < now() - interval '1 day'",
        )
        .execute(pool)
        .await;
    }
    if hits > limit.max {
        return Err(ApiError::RateLimited {
            retry_after_secs: remaining.ceil().max(1.0) as u64,
        });
    }
    Ok(())
}
