//! Inbound handshake slots: a general pool, a reserve that only the addresses governance lists may use, and a bound
//! per source IP address, so that whoever reaches the port cannot hold every slot.
//!
//! A connection from an address governance lists takes a reserved slot while one is free, then a general one; any
//! other connection takes a general slot. Either way its source address may hold at most
//! [`super::P2pLimits::max_pending_handshakes_per_address`] slots, times the number of nodes listed at that address
//! when there are several (nodes sharing a host). The listed addresses are the hosts of the dial targets' addresses
//! and of the dial overrides: IP addresses as they are, names as last resolved (resolution runs beside the accept
//! loop, never in it).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use governance_contracts::ids::NodeId;

/// Which pool a slot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pool {
    /// The slots anyone may use.
    General,
    /// The slots only listed addresses may use.
    Reserved,
}

/// Why a connection gets no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Busy {
    /// Its source address holds all the slots it may.
    Address,
    /// Every slot it may use is taken.
    Full,
}

/// The nodes listed at each IP address.
pub(super) type Listed = BTreeMap<IpAddr, BTreeSet<NodeId>>;

/// The slots in use and the addresses governance lists.
#[derive(Debug)]
pub(super) struct Slots {
    general: usize,
    reserved: usize,
    per_address: usize,
    used_general: usize,
    used_reserved: usize,
    by_address: BTreeMap<IpAddr, usize>,
    literal: Listed,
    resolved: Listed,
}

impl Slots {
    /// `general` slots for anyone, `reserved` more for listed addresses, `per_address` per source address.
    pub(super) fn new(general: usize, reserved: usize, per_address: usize) -> Self {
        Self {
            general,
            reserved,
            per_address,
            used_general: 0,
            used_reserved: 0,
            by_address: BTreeMap::new(),
            literal: Listed::new(),
            resolved: Listed::new(),
        }
    }

    /// How many nodes governance lists at `ip`.
    fn listed(&self, ip: &IpAddr) -> usize {
        match (self.literal.get(ip), self.resolved.get(ip)) {
            (Some(a), Some(b)) => a.union(b).count(),
            (Some(a), None) | (None, Some(a)) => a.len(),
            (None, None) => 0,
        }
    }

    /// A slot for a connection from `ip`, or why none.
    pub(super) fn take(&mut self, ip: IpAddr) -> Result<Pool, Busy> {
        let ip = ip.to_canonical();
        let listed = self.listed(&ip);
        let pending = self.by_address.get(&ip).copied().unwrap_or(0);
        if pending >= self.per_address.saturating_mul(listed.max(1)) {
            return Err(Busy::Address);
        }
        let pool = if listed > 0 && self.used_reserved < self.reserved {
            self.used_reserved = self.used_reserved.saturating_add(1);
            Pool::Reserved
        } else if self.used_general < self.general {
            self.used_general = self.used_general.saturating_add(1);
            Pool::General
        } else {
            return Err(Busy::Full);
        };
        self.by_address.insert(ip, pending.saturating_add(1));
        Ok(pool)
    }

    /// Gives back a slot [`Self::take`] handed out for `ip`.
    pub(super) fn release(&mut self, ip: IpAddr, pool: Pool) {
        let ip = ip.to_canonical();
        match pool {
            Pool::General => self.used_general = self.used_general.saturating_sub(1),
            Pool::Reserved => self.used_reserved = self.used_reserved.saturating_sub(1),
        }
        if let Some(pending) = self.by_address.get_mut(&ip) {
            *pending = pending.saturating_sub(1);
            if *pending == 0 {
                self.by_address.remove(&ip);
            }
        }
    }

    /// The listed IP addresses written as such.
    pub(super) fn set_literal(&mut self, listed: Listed) {
        self.literal = listed;
    }

    /// The listed addresses that names resolved to.
    pub(super) fn set_resolved(&mut self, listed: Listed) {
        self.resolved = listed;
    }
}

/// The host of a `host:port` address: an IP address, or a name to resolve (the whole `host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Host {
    /// An IP address (IPv4-mapped IPv6 addresses as IPv4).
    Ip(IpAddr),
    /// A name, with its port.
    Name(String),
}

/// The host of `address`, if it has the `host:port` form.
pub(super) fn host(address: &str) -> Option<Host> {
    if let Ok(socket) = address.parse::<SocketAddr>() {
        return Some(Host::Ip(socket.ip().to_canonical()));
    }
    let (name, port) = address.rsplit_once(':')?;
    if name.is_empty() || name.contains(['[', ']', ':']) || port.parse::<u16>().is_err() {
        return None;
    }
    Some(Host::Name(address.to_owned()))
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit::node;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn listed(entries: &[(&str, &[&str])]) -> Listed {
        entries.iter().map(|(ip_text, nodes)| (ip(ip_text), nodes.iter().map(|n| node(n)).collect())).collect()
    }

    /// One address gets at most its share of slots; the general pool then refuses everyone unlisted, and each
    /// released slot can be taken again.
    #[test]
    fn per_address_and_general_bounds() {
        let mut slots = Slots::new(3, 0, 2);
        assert_eq!(slots.take(ip("10.0.0.1")), Ok(Pool::General));
        assert_eq!(slots.take(ip("10.0.0.1")), Ok(Pool::General));
        assert_eq!(slots.take(ip("10.0.0.1")), Err(Busy::Address));
        assert_eq!(slots.take(ip("10.0.0.2")), Ok(Pool::General));
        assert_eq!(slots.take(ip("10.0.0.3")), Err(Busy::Full));
        slots.release(ip("10.0.0.1"), Pool::General);
        assert_eq!(slots.take(ip("10.0.0.3")), Ok(Pool::General));
        assert_eq!(slots.take(ip("10.0.0.1")), Err(Busy::Full));
    }

    /// Listed addresses use the reserve first, then the general pool; unlisted ones never use the reserve.
    #[test]
    fn the_reserve_is_for_listed_addresses() {
        let mut slots = Slots::new(1, 1, 4);
        slots.set_literal(listed(&[("10.0.0.9", &["n1"])]));
        assert_eq!(slots.take(ip("10.0.0.1")), Ok(Pool::General));
        assert_eq!(slots.take(ip("10.0.0.2")), Err(Busy::Full));
        assert_eq!(slots.take(ip("10.0.0.9")), Ok(Pool::Reserved));
        assert_eq!(slots.take(ip("10.0.0.9")), Err(Busy::Full));
        slots.release(ip("10.0.0.1"), Pool::General);
        assert_eq!(slots.take(ip("10.0.0.9")), Ok(Pool::General));
    }

    /// An address listing several nodes may hold the per-address share for each, counting a node listed both
    /// literally and by a resolved name once; IPv4-mapped IPv6 sources count as their IPv4 address.
    #[test]
    fn shared_hosts_get_a_share_per_node() {
        let mut slots = Slots::new(100, 0, 1);
        slots.set_literal(listed(&[("10.0.0.9", &["n1", "n2"])]));
        slots.set_resolved(listed(&[("10.0.0.9", &["n2", "n3"])]));
        for _ in 0..3 {
            assert_eq!(slots.take(ip("::ffff:10.0.0.9")), Ok(Pool::General));
        }
        assert_eq!(slots.take(ip("10.0.0.9")), Err(Busy::Address));
        slots.set_resolved(Listed::new());
        slots.release(ip("10.0.0.9"), Pool::General);
        assert_eq!(slots.take(ip("10.0.0.9")), Err(Busy::Address), "two nodes listed: two slots, both taken");
    }

    /// Addresses split into IP addresses and names to resolve; anything else has no host.
    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host("10.0.0.1:26656"), Some(Host::Ip(ip("10.0.0.1"))));
        assert_eq!(host("[::1]:1"), Some(Host::Ip(ip("::1"))));
        assert_eq!(host("[::ffff:10.0.0.1]:1"), Some(Host::Ip(ip("10.0.0.1"))));
        assert_eq!(host("node-1.example.org:26656"), Some(Host::Name("node-1.example.org:26656".into())));
        assert_eq!(host("node-1.example.org"), None);
        assert_eq!(host(":26656"), None);
        assert_eq!(host("[::1:26656"), None);
        assert_eq!(host("host:port"), None);
    }
}
