//! Limits per client address (and per address and account), counted before anything runs, in
//! PostgreSQL so every API replica shares them: an attacker elsewhere cannot lock a user out.
//! What an authorized caller may cause (mail per account, organization or recipient) is limited
//! by the domain crates with the same counters (`tributary_db::rate_limit`).

use std::net::IpAddr;

use sqlx::PgPool;
pub use tributary_db::rate_limit::Limit;

use crate::ApiError;

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
/// Password reset requests and completions, like sign-in's.
pub const PASSWORD_RESET_PER_ADDRESS: Limit = Limit {
    name: "password-reset",
    max: 30,
    window_secs: 300,
};
pub const PASSWORD_RESET_PER_ACCOUNT: Limit = Limit {
    name: "password-reset-account",
    max: 10,
    window_secs: 300,
};
pub const TOKENS_PER_ADDRESS: Limit = Limit {
    name: "tokens",
    max: 60,
    window_secs: 60,
};

/// The bucket a client address counts in: the address itself for IPv4, its /64 for IPv6 (one
/// subscriber usually holds a whole /64, so single addresses would be free to rotate).
pub fn address_bucket(addr: &str) -> String {
    match addr.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => addr.to_owned(),
    }
}

/// Counts a hit on `key` and refuses it once the window is full.
pub async fn hit(pool: &PgPool, limit: Limit, key: &str) -> Result<(), ApiError> {
    let mut conn = pool.acquire().await?;
    let hit = tributary_db::rate_limit::hit(&mut conn, limit, key).await?;
    if hit.first_in_window {
        // Opportunistic clean-up of finished windows; losing it is harmless.
        let _ = tributary_db::rate_limit::forget_finished(&mut conn).await;
    }
    match hit.retry_after_secs {
        Some(retry_after_secs) => Err(ApiError::RateLimited { retry_after_secs }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_stays_whole() {
        assert_eq!(address_bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            address_bucket("2001:db8:1:2:aaaa::1"),
            address_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(address_bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(
            address_bucket("2001:db8:1:2::1"),
            address_bucket("2001:db8:1:3::1")
        );
        // An IPv4 client seen through a dual-stack socket is still that IPv4 client.
        assert_eq!(address_bucket("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(address_bucket("unknown"), "unknown");
    }
}
