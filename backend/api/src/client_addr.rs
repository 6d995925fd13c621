//! Who the client is, by network address: the socket's peer, or — only when that peer is a
//! configured trusted proxy — the right-most hop of `Forwarded` (RFC 7239) or `X-Forwarded-For`
//! that is not a trusted proxy. Hops left of it were written by the client and prove nothing.
//! Resolved once per request by [`resolve`] and read by everything after (rate limits, audit).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};

/// One network, `address/prefix-length` (a bare address is a network of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR network"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?}: the prefix length must be 0 to {max}"))?,
        };
        let cidr = Self {
            network: mask(addr, prefix),
            prefix,
        };
        if cidr.network != addr {
            return Err(format!(
                "{raw:?} has host bits set; the network is {}/{prefix}",
                cidr.network
            ));
        }
        Ok(cidr)
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

/// The proxies whose forwarding headers are believed. Empty (the default): headers are ignored
/// and the client is the socket's peer.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[Cidr]>);

impl TrustedProxies {
    /// Parses a comma-separated list of networks, e.g. `10.0.0.0/8, fd00::/8`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let cidrs = spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(cidrs.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client of a request that arrived from `peer`: walking the forwarding chain from the
    /// peer leftwards, the first hop that is not a trusted proxy. When every hop is trusted, the
    /// left-most one; when a hop cannot be read (`unknown`, obfuscated), the trusted hop that
    /// reported it (so such clients share one bucket instead of choosing their own).
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut nearest = peer.to_canonical();
        if !self.trusts(nearest) {
            return nearest;
        }
        for hop in forwarding_chain(headers).into_iter().rev() {
            match hop {
                Some(ip) if !self.trusts(ip) => return ip,
                Some(ip) => nearest = ip,
                None => return nearest,
            }
        }
        nearest
    }
}

/// The addresses a request passed through, client first: from `Forwarded` when present, else
/// from `X-Forwarded-For`. `None` marks a hop that names no readable address.
fn forwarding_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_addr(v))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|v| v.split(','))
        .map(node_addr)
        .collect()
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
/// `"[2001:db8::1]:8080"`. Anything else (`unknown`, `_hidden`) is unreadable.
fn node_addr(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"').trim();
    let ip = if let Some(rest) = raw.strip_prefix('[') {
        rest.split_once(']')?.0.parse().ok()?
    } else if let Ok(ip) = raw.parse::<IpAddr>() {
        ip
    } else {
        raw.parse::<SocketAddr>().ok()?.ip()
    };
    Some(IpAddr::to_canonical(&ip))
}

/// The resolved client address of a request (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Middleware: resolves the client address once, from the socket and the trusted proxies.
/// In-process requests without a socket get none.
pub async fn resolve(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let client = proxies.client_addr(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(none.client_addr(ip(PROXY), &h), ip(PROXY));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            proxies.client_addr(ip("203.0.113.9"), &h),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").expect("parse");
        // The client prepended a forged hop; the proxies appended the real one.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("198.51.100.7"));
        // Several header lines form one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.7:5555"),
        ]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("198.51.100.7"));
        // Every hop trusted: the left-most one.
        let h = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("10.1.1.1"));
        // No header: the proxy itself.
        assert_eq!(proxies.client_addr(ip(PROXY), &HeaderMap::new()), ip(PROXY));
    }

    #[test]
    fn forwarded_is_preferred_and_its_syntax_is_read() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        let h = headers(&[
            (
                "forwarded",
                r#"for=1.2.3.4, For="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.5")]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("192.0.2.60"));
    }

    #[test]
    fn unreadable_hops_stay_with_the_proxy_that_reported_them() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip(PROXY));
        let h = headers(&[("x-forwarded-for", "198.51.100.7, garbage, 10.9.9.9")]);
        assert_eq!(proxies.client_addr(ip(PROXY), &h), ip("10.9.9.9"));
    }

    #[test]
    fn ipv4_mapped_and_ipv6_proxies_match() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, fd00::/8").expect("parse");
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            proxies.client_addr(ip("::ffff:10.0.0.5"), &h),
            ip("198.51.100.7")
        );
        assert_eq!(proxies.client_addr(ip("fd12::1"), &h), ip("198.51.100.7"));
        assert_eq!(proxies.client_addr(ip("fe80::1"), &h), ip("fe80::1"));
    }

    #[test]
    fn networks_are_validated() {
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/8,2001:db8::/32,127.0.0.1").is_ok());
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1/8",
            "example.com",
            "::/129",
            "10.0.0.0/x",
        ] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        assert!(!Cidr::parse("0.0.0.0/0").expect("all").contains(ip("::1")));
    }
}
