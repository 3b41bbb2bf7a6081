//! Where a webhook may point: the URL's form, and every address its host
//! resolves to must be public. Checked when a webhook is registered and
//! again by the sender's resolver at every connect, so a name that later
//! resolves to a private address (DNS rebinding) still reaches nothing
//! inside. A leaf: no other module of the platform.

use spleis_domain::notifications::{MAX_URL_BYTES, WebhookError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// How long the registration's DNS lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why `ip` is not a public address (`a loopback address`), or `None`
/// when it is. IPv4 addresses inside IPv6 (mapped, compatible, NAT64,
/// 6to4) are judged by the IPv4 address they carry.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (\"this network\") address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // ::ffff:a.b.c.d, mapped.
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return non_public_v4(embedded(s[6], s[7]));
    }
    // ::a.b.c.d, the deprecated compatible form: no public route.
    if s[..6] == [0; 6] {
        return Some("an IPv4-compatible address");
    }
    // 64:ff9b::/96, the well-known NAT64 prefix: the IPv4 address it reaches.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return non_public_v4(embedded(s[6], s[7]));
    }
    // 2002::/16, 6to4: the IPv4 address in the next 32 bits.
    if s[0] == 0x2002 {
        return non_public_v4(embedded(s[1], s[2]));
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "a unique-local address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x2001 if s[1] < 0x0200 => "an IETF protocol assignment (Teredo, ORCHID, …)",
        0x3fff if s[1] < 0x1000 => "a documentation address",
        0x2000..=0x3fff => return None,
        // 64:ff9b:1::/48 (local NAT64), 100::/64 (discard) and the rest
        // outside 2000::/3 are not global unicast.
        _ => "not a global unicast address",
    })
}

/// A webhook URL that passed the form rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedUrl {
    /// The URL, normalised.
    pub url: String,
    /// Its host (a name, or an address; IPv6 without brackets).
    pub host: String,
    /// Its port, given or the scheme's.
    pub port: u16,
}

/// Checks a webhook URL's form: `https://` (or `http://` where private
/// targets are allowed), no user or password, a host, at most
/// [`MAX_URL_BYTES`]. An address as the host is judged here too.
pub fn check_url(text: &str, allow_private: bool) -> Result<CheckedUrl, WebhookError> {
    let invalid = |why: String| WebhookError::InvalidUrl(why);
    if text.len() > MAX_URL_BYTES {
        return Err(invalid(format!(
            "it is {} bytes long; at most {MAX_URL_BYTES}",
            text.len()
        )));
    }
    let url = url::Url::parse(text).map_err(|e| invalid(format!("not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(invalid("use https:// (plain http:// is refused)".into())),
        other => return Err(invalid(format!("the scheme `{other}` is not https"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "a user name or password in the URL is refused; the signature authenticates deliveries"
                .into(),
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(invalid("it names no host".into())),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| invalid("it names no port".into()))?;
    if !allow_private && let Ok(ip) = host.parse::<IpAddr>() {
        refuse_non_public(&host, ip)?;
    }
    Ok(CheckedUrl {
        url: url.to_string(),
        host,
        port,
    })
}

fn refuse_non_public(host: &str, ip: IpAddr) -> Result<(), WebhookError> {
    match non_public(ip) {
        Some(reason) => Err(WebhookError::PrivateAddress {
            host: host.to_owned(),
            address: ip.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Resolves the URL's host now and refuses it unless every address is
/// public (registration; the sender checks again at every connect).
pub async fn check_resolves(url: &CheckedUrl) -> Result<(), WebhookError> {
    let unresolvable = |reason: String| WebhookError::Unresolvable {
        host: url.host.clone(),
        reason,
    };
    let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
    let addresses: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .map_err(|_| unresolvable("the lookup timed out".into()))?
        .map_err(|e| unresolvable(e.to_string()))?
        .collect();
    if addresses.is_empty() {
        return Err(unresolvable("no address".into()));
    }
    for address in addresses {
        refuse_non_public(&url.host, address.ip())?;
    }
    Ok(())
}

/// The sender's resolver: `netloc` (`host:port`) resolved, refused as a
/// whole when any address is not public (unless `allow_private`), so the
/// connection can only go where registration would have allowed.
pub fn resolve_public(netloc: &str, allow_private: bool) -> std::io::Result<Vec<SocketAddr>> {
    let addresses: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
    if !allow_private {
        for address in &addresses {
            if let Some(reason) = non_public(address.ip()) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{netloc} resolves to {}, {reason}: webhooks go only to public addresses",
                        address.ip()
                    ),
                ));
            }
        }
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_public_or_named() {
        let table: &[(&str, Option<&str>)] = &[
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("93.184.216.34", None),
            ("0.0.0.0", Some("unspecified")),
            ("10.0.0.1", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("carrier-grade")),
            ("100.127.255.255", Some("carrier-grade")),
            ("100.128.0.1", None),
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.1", Some("loopback")),
            ("169.254.169.254", Some("link-local")),
            ("192.0.0.8", Some("IETF")),
            ("192.0.2.1", Some("documentation")),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("198.18.0.1", Some("benchmarking")),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("broadcast")),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001:80b::200e", None),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private")),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some("compatible")),
            ("64:ff9b::10.0.0.1", Some("private")),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some("global unicast")),
            ("2002:0a00:0001::1", Some("private")),
            ("2002:0808:0808::1", None),
            ("fc00::1", Some("unique-local")),
            ("fd12:3456::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("fec0::1", Some("site-local")),
            ("ff02::1", Some("multicast")),
            ("2001:db8::1", Some("documentation")),
            ("3fff::1", Some("documentation")),
            ("2001::1", Some("IETF")),
            ("100::1", Some("global unicast")),
        ];
        for (text, expected) in table {
            let ip: IpAddr = text.parse().unwrap();
            match (non_public(ip), expected) {
                (None, None) => {}
                (Some(reason), Some(word)) => {
                    assert!(reason.contains(word), "{text}: {reason}, expected {word}")
                }
                (got, _) => panic!("{text}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    proptest! {
        /// An IPv4 address and its IPv4-mapped IPv6 form are judged alike.
        #[test]
        fn a_mapped_address_is_judged_as_its_ipv4(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            prop_assert_eq!(
                non_public(IpAddr::V4(v4)),
                non_public(IpAddr::V6(v4.to_ipv6_mapped()))
            );
        }

        /// Every address of the private, loopback, link-local and CGNAT
        /// ranges is refused.
        #[test]
        fn inside_ranges_are_never_public(
            (base, prefix) in prop::sample::select(vec![
                (0x0a00_0000u32, 8u32), (0xac10_0000, 12), (0xc0a8_0000, 16),
                (0x7f00_0000, 8), (0xa9fe_0000, 16), (0x6440_0000, 10), (0xe000_0000, 4),
            ]),
            host in any::<u32>(),
        ) {
            let ip = Ipv4Addr::from(base | (host >> prefix));
            prop_assert!(non_public(IpAddr::V4(ip)).is_some(), "{}", ip);
        }

        /// Unique-local and link-local IPv6 are refused, whatever follows.
        #[test]
        fn local_ipv6_is_never_public(bits in any::<u128>(), link in any::<bool>()) {
            let (base, prefix) = if link { (0xfe80u128 << 112, 10) } else { (0xfc00u128 << 112, 7) };
            let ip = Ipv6Addr::from(base | (bits >> prefix));
            prop_assert!(non_public(IpAddr::V6(ip)).is_some(), "{}", ip);
        }
    }

    #[test]
    fn urls_must_be_https_without_userinfo_and_short() {
        let ok = check_url("https://hooks.example.com/in?x=1", false).unwrap();
        assert_eq!((ok.host.as_str(), ok.port), ("hooks.example.com", 443));
        let refused = |url: &str, allow: bool| check_url(url, allow).unwrap_err().to_string();
        assert!(refused("http://hooks.example.com/", false).contains("https"));
        assert!(refused("ftp://hooks.example.com/", true).contains("ftp"));
        assert!(refused("https://user:pw@hooks.example.com/", false).contains("password"));
        assert!(refused("not a url", false).contains("not a URL"));
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert!(refused(&long, false).contains("at most 2000"));
        let private = refused("https://127.0.0.1/hook", false);
        assert!(
            private.contains("127.0.0.1") && private.contains("loopback"),
            "{private}"
        );
        assert!(refused("https://[::ffff:10.0.0.1]/", false).contains("private"));
        // The operator's flag admits private addresses and plain HTTP.
        let local = check_url("http://127.0.0.1:9000/hook", true).unwrap();
        assert_eq!((local.host.as_str(), local.port), ("127.0.0.1", 9000));
        assert!(check_url("http://[::1]:9000/", true).is_ok());
    }

    #[test]
    fn the_senders_resolver_refuses_private_addresses_unless_allowed() {
        let refused = resolve_public("127.0.0.1:80", false).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(refused.to_string().contains("loopback"), "{refused}");
        assert!(resolve_public("[::1]:80", false).is_err());
        assert_eq!(resolve_public("127.0.0.1:80", true).unwrap().len(), 1);
        assert!(resolve_public("8.8.8.8:443", false).is_ok());
    }

    #[tokio::test]
    async fn registration_resolves_names_and_refuses_private_ones() {
        let url = check_url("https://localhost/hook", false).unwrap();
        match check_resolves(&url).await {
            Err(WebhookError::PrivateAddress { address, .. }) => {
                assert!(address == "127.0.0.1" || address == "::1", "{address}")
            }
            other => panic!("localhost: {other:?}"),
        }
        let nowhere = check_url("https://nowhere.invalid/hook", false).unwrap();
        assert!(matches!(
            check_resolves(&nowhere).await,
            Err(WebhookError::Unresolvable { .. })
        ));
    }
}
