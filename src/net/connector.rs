//! The one way out to remote mail servers (DESIGN invariant 7).
//!
//! Every connection resolves the host, checks each address, and connects to exactly an
//! address it checked — there is no second lookup a rebinding DNS server could answer
//! differently. The check runs on every connect, not only when an account is saved.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::i18n::{Text, io_text};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Deliberately vague: the user learns nothing about the internal network.
    #[error("{}", self.text())]
    Refused,
    #[error("{}", self.text())]
    Resolve(#[source] io::Error),
    #[error("{}", self.text())]
    NoAddresses,
    #[error("{}", self.text())]
    Timeout,
    #[error("{}", self.text())]
    Connect(#[source] io::Error),
}

impl ConnectError {
    /// What went wrong, in words.
    pub fn text(&self) -> Text {
        match self {
            Self::Refused => Text::new("connect-address-refused"),
            Self::Resolve(_) => Text::new("connect-unresolved"),
            Self::NoAddresses => Text::new("connect-no-addresses"),
            Self::Timeout => Text::new("connect-timeout"),
            Self::Connect(e) => Text::new("connect-failed").with("problem", io_text(e)),
        }
    }

    /// Worth retrying later (a network problem, not a refused destination).
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Refused)
    }

    /// The error class a failed fetch or submission records for it.
    pub fn class(&self) -> crate::model::ErrorClass {
        use crate::model::ErrorClass;
        match self {
            Self::Refused => ErrorClass::RefusedAddress,
            Self::Timeout => ErrorClass::Timeout,
            Self::Resolve(_) | Self::NoAddresses | Self::Connect(_) => ErrorClass::Network,
        }
    }
}

/// Name resolution, replaceable so tests can play a rebinding DNS server.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// The system resolver (getaddrinfo through tokio).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

#[derive(Debug, Clone)]
pub struct Connector {
    allow_private: bool,
    timeout: Duration,
    resolver: Arc<dyn Resolve>,
}

impl Connector {
    pub fn new(allow_private: bool, timeout: Duration) -> Self {
        Self::with_resolver(allow_private, timeout, Arc::new(SystemResolver))
    }

    pub fn with_resolver(
        allow_private: bool,
        timeout: Duration,
        resolver: Arc<dyn Resolve>,
    ) -> Self {
        Self {
            allow_private,
            timeout,
            resolver,
        }
    }

    /// Connects to the first allowed address of `host` that accepts, within the timeout
    /// (resolution included).
    pub async fn connect(&self, host: &str, port: u16) -> Result<TcpStream, ConnectError> {
        tokio::time::timeout(self.timeout, self.connect_inner(host, port))
            .await
            .map_err(|_| ConnectError::Timeout)?
    }

    async fn connect_inner(&self, host: &str, port: u16) -> Result<TcpStream, ConnectError> {
        let addresses = self
            .resolver
            .resolve(host, port)
            .await
            .map_err(ConnectError::Resolve)?;
        if addresses.is_empty() {
            return Err(ConnectError::NoAddresses);
        }
        let allowed: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|address| self.allow_private || is_public(address.ip()))
            .collect();
        if allowed.is_empty() {
            tracing::warn!(host, "refused a connection into a private or local network");
            return Err(ConnectError::Refused);
        }
        let mut last_error = None;
        for address in allowed {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    // POP3 is request/response: Nagle plus delayed ACK would add ~40 ms
                    // to every exchange.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(ConnectError::Connect(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "no address accepted")
        })))
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, documentation or reserved space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10 shared address space
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24 protocol assignments
        || (a == 198 && (18..20).contains(&b)) // 198.18.0.0/15 benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || segments[0] == 0x2001 && segments[1] == 0xdb8 // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().expect(private)), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().expect(public)), "{public}");
        }
    }
}
