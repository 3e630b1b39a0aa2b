//! Which peers are reverse proxies we believe, and what their forwarding headers tell us: the
//! client's address (`X-Forwarded-For`) and whether the browser spoke HTTPS
//! (`X-Forwarded-Proto`). Anyone can send those headers; only a trusted proxy's word counts.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// `CANCER_AID_TRUSTED_PROXIES`: addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`)
/// whose forwarding headers are believed. Empty by default: nobody's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

/// One address or network of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(s: &str) -> Option<Network> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (
                a.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Network { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may reach a dual-stack socket as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The first `prefix` bits of a `bits`-bit address.
fn masked(addr: u128, bits: u32, prefix: u8) -> u128 {
    let host_bits = bits - u32::from(prefix);
    if host_bits >= 128 {
        0
    } else {
        addr >> host_bits
    }
}

impl TrustedProxies {
    /// Reads a comma-separated list; an entry that is not an address or a network is an error
    /// naming it, so that a typo does not silently trust nobody (or everybody).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                Network::parse(s).ok_or_else(|| format!("{s} is not an IP address or network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

/// The client's address: the peer itself, unless the peer is a trusted proxy; then the
/// rightmost address of `X-Forwarded-For` that is not a trusted proxy. Entries left of it were
/// written by whoever sent the request and prove nothing. `None` when the peer is unknown.
pub fn client_addr(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?;
    if !trusted.contains(client) {
        return Some(client);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in forwarded.iter().rev() {
        // A hop that is not an address ends the chain: what is left of it cannot be trusted.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    Some(client)
}

/// Whether a trusted proxy says the browser reached it over HTTPS.
pub fn forwarded_https(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> bool {
    peer.is_some_and(|p| trusted.contains(p))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1,::1").unwrap();
        assert!(t.contains("10.2.3.4".parse().unwrap()));
        assert!(t.contains("192.168.1.1".parse().unwrap()));
        assert!(!t.contains("192.168.1.2".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(t.contains("::ffff:10.0.0.9".parse().unwrap()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers("6.6.6.6, 203.0.113.5, 10.0.0.2");
        let outsider = "198.51.100.7".parse().ok();
        assert_eq!(client_addr(outsider, &h, &t), outsider);
        let proxy = "10.0.0.1".parse().ok();
        assert_eq!(client_addr(proxy, &h, &t), "203.0.113.5".parse().ok());
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &t), proxy);
        assert_eq!(
            client_addr(proxy, &headers("junk, 10.0.0.3"), &t),
            "10.0.0.3".parse().ok()
        );
        assert_eq!(client_addr(None, &h, &t), None);
    }

    #[test]
    fn forwarded_proto_is_believed_only_from_a_trusted_peer() {
        let t = TrustedProxies::parse("10.0.0.1").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(forwarded_https("10.0.0.1".parse().ok(), &h, &t));
        assert!(!forwarded_https("10.0.0.2".parse().ok(), &h, &t));
        assert!(!forwarded_https(None, &h, &t));
    }
}
