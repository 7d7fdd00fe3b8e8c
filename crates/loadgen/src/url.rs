//! `http://host[:port][/path][?query]` and nothing else: the generator speaks plain HTTP/1.1,
//! so a tiny parser that rejects the rest with a clear reason beats a general URL crate.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::Error;

/// A parsed plain-HTTP URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected http://host[:port]/path"))?;
        if scheme.eq_ignore_ascii_case("https") {
            return Err(bad(
                "https is not supported: the load generator speaks plain HTTP/1.1 (use http://)",
            ));
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(bad(&format!(
                "scheme {scheme:?} is not supported (use http://)"
            )));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("the path holds spaces or control characters"));
        }
        if authority.contains('@') {
            return Err(bad("user names and passwords are not supported"));
        }
        let (host, port) = split_host_port(authority).map_err(bad)?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path,
        })
    }

    /// The `Host` header value: `host:port`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves the host once, before any load, so DNS never sits in a measured request.
    /// Every address, in the resolver's order (never empty): connections try each in turn
    /// until one accepts, as a name such as `localhost` can resolve to `::1` first while the
    /// server listens on 127.0.0.1 only.
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, Error> {
        let err = |source| Error::Resolve {
            url: self.to_string(),
            host: self.host.clone(),
            source,
        };
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(err)?
            .collect();
        if addrs.is_empty() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no addresses",
            )));
        }
        Ok(addrs)
    }

    /// The bytes of a keep-alive GET for this URL, built once and sent for every request.
    pub fn get_request(&self) -> Vec<u8> {
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: boxwise-loadgen\r\nAccept: */*\r\n\r\n",
            self.path,
            self.authority()
        )
        .into_bytes()
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, u16), &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("junk after ]")?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("the port is not a number from 1 to 65535")?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap()
    }

    #[test]
    fn parses_host_port_path() {
        let u = p("http://127.0.0.1:8080/hello?x=1");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/hello?x=1")
        );
        assert_eq!(p("http://localhost").path, "/");
        assert_eq!(p("http://localhost").port, 80);
        assert_eq!(p("HTTP://h:1?q").path, "/?q");
        assert_eq!(p("http://h/a#frag").path, "/a");
        let v6 = p("http://[::1]:9000/x");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 9000));
        assert_eq!(v6.authority(), "[::1]:9000");
        assert_eq!(v6.to_string(), "http://[::1]:9000/x");
    }

    #[test]
    fn rejects_what_it_cannot_speak() {
        let e = HttpUrl::parse("https://h/").unwrap_err().to_string();
        assert!(e.contains("https is not supported"), "{e}");
        assert!(e.contains("\"https://h/\""), "{e}");
        for bad in [
            "h:80/x",
            "ftp://h/",
            "http://:80/",
            "http://h:0/",
            "http://h:70000/",
            "http://h:x/",
            "http://u@h/",
            "http://[::1/",
            "http://h/a b",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn resolves_every_address() {
        let addrs = p("http://127.0.0.1:8080/").resolve().unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        // localhost gives one or more loopback addresses (IPv4 and/or IPv6), all kept.
        if let Ok(addrs) = p("http://localhost:8080/").resolve() {
            assert!(!addrs.is_empty());
            assert!(
                addrs
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 8080)
            );
        }
    }

    #[test]
    fn request_names_path_and_host() {
        let r = String::from_utf8(p("http://127.0.0.1:8080/a").get_request()).unwrap();
        assert!(
            r.starts_with("GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"),
            "{r}"
        );
        assert!(r.ends_with("\r\n\r\n"));
    }
}
