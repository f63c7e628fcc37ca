//! Validator peer-to-peer addresses: the subset of libp2p multiaddrs that jiu accepts,
//! parsed without linking libp2p so that genesis validation stays light.
//!
//! Accepted forms, nothing before or after:
//! `/ip4/<v4>/tcp/<port>`, `/ip6/<v6>/tcp/<port>`, `/dns/<host>/tcp/<port>` (also `dns4`,
//! `dns6`), and the same hosts with `/udp/<port>/quic-v1` in place of `/tcp/<port>`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A parsed validator address. Two addresses are equal when they name the same host, transport
/// and port, whatever their spelling (`::1` and `0:0:0:0:0:0:0:1`, or DNS names in other case).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct P2pAddr {
    /// Where the validator is reached.
    pub host: Host,
    /// How it is reached.
    pub transport: Transport,
    /// TCP or UDP port, 1 to 65535.
    pub port: u16,
}

/// The host part of a [`P2pAddr`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// `/ip4/...`
    Ip4(Ipv4Addr),
    /// `/ip6/...`
    Ip6(Ipv6Addr),
    /// `/dns/...`, `/dns4/...` or `/dns6/...`: the protocol name and the lowercased host name.
    Dns(&'static str, String),
}

/// The transport part of a [`P2pAddr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `/tcp/<port>`
    Tcp,
    /// `/udp/<port>/quic-v1`
    QuicV1,
}

/// Why text is not an accepted validator address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a validator address: {reason} (expected e.g. /ip4/127.0.0.1/tcp/26656)")]
pub struct P2pAddrError {
    /// The rejected text.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Longest DNS name (RFC 1035).
const DNS_NAME_LEN_MAX: usize = 253;
/// Longest DNS label (RFC 1035).
const DNS_LABEL_LEN_MAX: usize = 63;

impl FromStr for P2pAddr {
    type Err = P2pAddrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| P2pAddrError {
            text: text.to_string(),
            reason,
        };
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| fail("must start with '/'"))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let (protocol, host, transport) = match parts.as_slice() {
            [protocol, host, transport @ ..] => (*protocol, *host, transport),
            _ => return Err(fail("missing host")),
        };
        let host = parse_host(protocol, host).map_err(fail)?;
        let (transport, port) = match transport {
            ["tcp", port] => (Transport::Tcp, *port),
            ["udp", port, "quic-v1"] => (Transport::QuicV1, *port),
            _ => return Err(fail("transport must be /tcp/<port> or /udp/<port>/quic-v1")),
        };
        let port = parse_port(port).map_err(fail)?;
        Ok(Self {
            host,
            transport,
            port,
        })
    }
}

fn parse_host(protocol: &str, host: &str) -> Result<Host, &'static str> {
    match protocol {
        "ip4" => {
            let ip: Ipv4Addr = host.parse().map_err(|_| "bad IPv4 address")?;
            if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() {
                return Err("IPv4 address cannot be dialled");
            }
            Ok(Host::Ip4(ip))
        }
        "ip6" => {
            let ip: Ipv6Addr = host.parse().map_err(|_| "bad IPv6 address")?;
            if ip.is_unspecified() || ip.is_multicast() {
                return Err("IPv6 address cannot be dialled");
            }
            Ok(Host::Ip6(ip))
        }
        "dns" | "dns4" | "dns6" => {
            check_dns_name(host)?;
            let protocol = match protocol {
                "dns4" => "dns4",
                "dns6" => "dns6",
                _ => "dns",
            };
            Ok(Host::Dns(protocol, host.to_ascii_lowercase()))
        }
        _ => Err("host must be /ip4/, /ip6/ or /dns/"),
    }
}

fn check_dns_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > DNS_NAME_LEN_MAX {
        return Err("DNS name must be 1 to 253 characters");
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= DNS_LABEL_LEN_MAX
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(
                "DNS name labels must be 1 to 63 of [a-zA-Z0-9-], not starting or ending with '-'",
            );
        }
    }
    Ok(())
}

fn parse_port(text: &str) -> Result<u16, &'static str> {
    // Digits only and no leading zero, so each port has exactly one spelling.
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    match text.parse::<u16>() {
        Ok(port) if canonical && port >= 1 => Ok(port),
        _ => Err("port must be 1 to 65535"),
    }
}

impl fmt::Display for P2pAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip4(ip) => write!(f, "/ip4/{ip}")?,
            Host::Ip6(ip) => write!(f, "/ip6/{ip}")?,
            Host::Dns(protocol, name) => write!(f, "/{protocol}/{name}")?,
        }
        match self.transport {
            Transport::Tcp => write!(f, "/tcp/{}", self.port),
            Transport::QuicV1 => write!(f, "/udp/{}/quic-v1", self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_accepted_forms_round_trip() {
        for text in [
            "/ip4/127.0.0.1/tcp/26656",
            "/ip4/10.0.0.7/udp/1/quic-v1",
            "/ip6/::1/tcp/65535",
            "/ip6/fe80::1/udp/27000/quic-v1",
            "/dns/node-1.example.com/tcp/26656",
            "/dns4/localhost/tcp/26656",
            "/dns6/a.b/udp/9/quic-v1",
        ] {
            let addr: P2pAddr = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn test_equal_addresses_compare_equal() {
        let a: P2pAddr = "/ip6/::1/tcp/1".parse().unwrap();
        let b: P2pAddr = "/ip6/0:0:0:0:0:0:0:1/tcp/1".parse().unwrap();
        assert_eq!(a, b);
        let a: P2pAddr = "/dns/Node.Example/tcp/1".parse().unwrap();
        let b: P2pAddr = "/dns/node.example/tcp/1".parse().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn test_rejected_forms() {
        for text in [
            "",
            "/",
            "ip4/127.0.0.1/tcp/1",
            "/ip4/127.0.0.1",
            "/ip4/127.0.0.1/tcp",
            "/ip4/127.0.0.1/tcp/",
            "/ip4/127.0.0.1/tcp/0",
            "/ip4/127.0.0.1/tcp/65536",
            "/ip4/127.0.0.1/tcp/+80",
            "/ip4/127.0.0.1/tcp/080",
            "/ip4/127.0.0.1/tcp/1/",
            "/ip4/127.0.0.1/tcp/1/p2p/12D3KooW",
            "/ip4/127.0.0.1/udp/1",
            "/ip4/127.0.0.1/udp/1/quic",
            "/ip4/127.0.0.1/tcp/1/quic-v1",
            "/ip4/256.0.0.1/tcp/1",
            "/ip4/127.000.0.1/tcp/1",
            "/ip4/0.0.0.0/tcp/1",
            "/ip4/::1/tcp/1",
            "/ip6/127.0.0.1/tcp/1",
            "/ip6/::/tcp/1",
            "/dns//tcp/1",
            "/dns/-bad.example/tcp/1",
            "/dns/bad..example/tcp/1",
            "/dns/under_score/tcp/1",
            "/unix/tmp/sock",
            " /ip4/127.0.0.1/tcp/1",
        ] {
            assert!(text.parse::<P2pAddr>().is_err(), "accepted {text:?}");
        }
    }
}
