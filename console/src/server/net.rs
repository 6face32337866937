//! Addresses the console decides on: which client a request came from (believing `X-Forwarded-For` only from the
//! proxies the operator named), which bucket a client's sign-in attempts fall in, and which addresses a webhook may
//! reach.
//!
//! - **Client address.** The TCP peer, unless the peer is a trusted proxy (`--trusted-proxy`): then the right-most
//!   address of `X-Forwarded-For` that is not itself a trusted proxy. Everything left of it was written by the
//!   client and is never believed.
//! - **Rate-limit bucket.** An IPv4 address, or the /64 an IPv6 address lies in (one host usually holds a whole
//!   /64, so counting single IPv6 addresses would let it through unlimited).
//! - **Webhook targets.** Only public unicast addresses, plus the networks the operator allowed explicitly
//!   (`--webhook-allow`). Loopback, private, link-local, unspecified, shared (CGNAT), multicast, documentation and
//!   reserved ranges are refused, including when written as IPv4-mapped or NAT64 IPv6.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

use axum::http::HeaderMap;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`); a bare address is the network of that address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a network (write an address, or an address and a prefix length such as 10.0.0.0/8)")]
pub struct BadCidr {
    text: String,
}

impl Cidr {
    /// The network of `address` alone.
    pub fn host(address: IpAddr) -> Self {
        let address = address.to_canonical();
        Self { network: address, prefix: max_prefix(address) }
    }

    /// Whether `address` lies in this network (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = mask_v4(self.prefix);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = mask_v6(self.prefix);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Self, BadCidr> {
        let bad = || BadCidr { text: text.to_owned() };
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let address = address.to_canonical();
        let prefix = match prefix {
            None => max_prefix(address),
            Some(prefix) => {
                let prefix: u8 = prefix.parse().map_err(|_| bad())?;
                if prefix > max_prefix(address) {
                    return Err(bad());
                }
                prefix
            }
        };
        // Keep the network address itself, so that Display shows the network and not the host written.
        let network = match address {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(prefix))),
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn max_prefix(address: IpAddr) -> u8 {
    if address.is_ipv4() { 32 } else { 128 }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32_u32.saturating_sub(u32::from(prefix))).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128_u32.saturating_sub(u32::from(prefix))).unwrap_or(0)
}

/// Whether `address` is a public unicast address: reachable on the internet, and none of loopback, private,
/// link-local, unspecified, shared, multicast, broadcast, documentation, benchmarking or reserved space.
pub fn is_public(address: IpAddr) -> bool {
    match address.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    const REFUSED: [(Ipv4Addr, u8); 15] = [
        (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", the unspecified address
        (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
        (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (carrier-grade NAT)
        (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
        (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata services live here)
        (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
        (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
        (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
        (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated)
        (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
        (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
        (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
        (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
        (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
        (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, and the broadcast address
    ];
    !REFUSED
        .iter()
        .any(|(network, prefix)| Cidr { network: IpAddr::V4(*network), prefix: *prefix }.contains(IpAddr::V4(address)))
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let bits = u128::from(address);
    let segments = address.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits: judge that address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = u32::try_from(bits & u128::from(u32::MAX)).expect("masked to 32 bits");
        return is_public_v4(Ipv4Addr::from(v4));
    }
    // 6to4 (2002::/16) carries an IPv4 address in bits 16..48.
    if segments[0] == 0x2002 {
        let v4 = u32::try_from((bits >> 80) & u128::from(u32::MAX)).expect("masked to 32 bits");
        return is_public_v4(Ipv4Addr::from(v4));
    }
    // Global unicast is 2000::/3; within it, documentation (2001:db8::/32) and the IETF block's non-global parts
    // (2001::/23: Teredo, benchmarking, ORCHID) are refused. Everything outside 2000::/3 (loopback, unspecified,
    // IPv4-compatible, unique local fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8) is refused.
    let global_unicast = segments[0] & 0xe000 == 0x2000;
    let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
    let ietf = segments[0] == 0x2001 && segments[1] < 0x0200;
    global_unicast && !documentation && !ietf
}

/// Which address a request came from: the TCP `peer`, unless it is one of `trusted` proxies; then the right-most
/// entry of `X-Forwarded-For` (all its header lines, in order) that is not a trusted proxy. When every entry is a
/// trusted proxy, the left-most; when an entry does not parse, the last hop believed so far.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut believed = peer;
    for hop in hops.iter().rev() {
        let Some(address) = parse_hop(hop) else { return believed };
        believed = address;
        if !is_trusted(address) {
            return address;
        }
    }
    believed
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    hop.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).and_then(|a| a.parse::<IpAddr>().ok())
}

/// The bucket a client's attempts are counted in: its IPv4 address, or the /64 of its IPv6 address.
pub fn rate_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(64))),
    }
}

/// Where webhooks may deliver: public addresses, and the networks the operator allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Networks allowed besides public addresses (`--webhook-allow`), for receivers inside the organisation.
    pub allow: Vec<Cidr>,
}

impl TargetPolicy {
    /// Whether a notice may be sent to `address`.
    pub fn permits(&self, address: IpAddr) -> bool {
        is_public(address) || self.allow.iter().any(|network| network.contains(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn cidr(text: &str) -> Cidr {
        text.parse().expect("a network")
    }

    /// Networks parse with and without a prefix, keep their network address, and contain exactly their range.
    #[test]
    fn networks_contain_their_range() {
        assert_eq!(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
        assert!(cidr("10.0.0.0/8").contains(ip("10.255.0.1")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!cidr("0.0.0.0/0").contains(ip("::1")));
        assert!(cidr("fd00::/8").contains(ip("fd12::1")));
        assert!(cidr("127.0.0.1").contains(ip("::ffff:127.0.0.1")), "a mapped address is its IPv4 address");
        for bad in ["", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "host.example", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad} parsed");
        }
    }

    /// Internal and special addresses are not public, in every spelling; ordinary public addresses are.
    #[test]
    fn only_public_unicast_is_public() {
        for internal in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(internal)), "{internal} counted as public");
        }
        for public in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(ip(public)), "{public} counted as internal");
        }
    }

    /// The allowlist admits its networks and nothing else internal.
    #[test]
    fn the_allowlist_admits_only_its_networks() {
        let policy = TargetPolicy { allow: vec![cidr("10.20.0.0/16")] };
        assert!(policy.permits(ip("10.20.3.4")));
        assert!(!policy.permits(ip("10.21.3.4")));
        assert!(!policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("8.8.8.8")));
        assert!(!TargetPolicy::default().permits(ip("10.20.3.4")));
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().expect("a header value"));
        }
        headers
    }

    /// X-Forwarded-For is believed only from a trusted proxy, and then only its right-most untrusted entry: what
    /// the client wrote to the left of it is ignored.
    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let proxies = [cidr("10.0.0.0/24")];
        let proxy = ip("10.0.0.5");
        let stranger = ip("203.0.113.9");
        let headers = forwarded(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(client_address(stranger, &headers, &proxies), stranger, "an untrusted peer's header is ignored");
        assert_eq!(client_address(proxy, &headers, &[]), proxy, "no trusted proxies: the header is ignored");
        assert_eq!(client_address(proxy, &headers, &proxies), ip("198.51.100.7"));
        let chained = forwarded(&["6.6.6.6", "198.51.100.7, 10.0.0.9"]);
        assert_eq!(client_address(proxy, &chained, &proxies), ip("198.51.100.7"), "trusted hops are skipped");
        assert_eq!(client_address(proxy, &forwarded(&["10.0.0.7, 10.0.0.8"]), &proxies), ip("10.0.0.7"));
        assert_eq!(client_address(proxy, &forwarded(&["garbage"]), &proxies), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &proxies), proxy);
        assert_eq!(client_address(proxy, &forwarded(&["[2001:db8::1]:443"]), &proxies), ip("2001:db8::1"));
    }

    /// IPv6 clients are counted per /64; IPv4 clients per address.
    #[test]
    fn ipv6_clients_are_counted_per_slash_64() {
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), rate_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(rate_key(ip("2001:db8:1:2::1")), rate_key(ip("2001:db8:1:3::1")));
        assert_ne!(rate_key(ip("10.0.0.1")), rate_key(ip("10.0.0.2")));
        assert_eq!(rate_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
