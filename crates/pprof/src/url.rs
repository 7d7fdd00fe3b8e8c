//! The address a profile is fetched from, as parts rather than an edited string: what the user
//! gave (`http://host:port`, `host:port`, or a full `/debug/pprof/...` URL) plus pprof's rules,
//! a bare host meaning the CPU profile and `--seconds` replacing any `seconds=` in the query.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Bytes escaped in a query value we add: all but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// pprof's path for a bare `host:port`.
pub const CPU_PROFILE_PATH: &str = "/debug/pprof/profile";

/// Seconds pprof waits for a profile when the URL does not say.
pub const DEFAULT_SECONDS: u32 = 30;

/// One `key=value` (or bare `key`) from the query, kept as written: already percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    key: String,
    value: Option<String>,
}

/// A profile URL: origin (`scheme://host:port`, or `host:port`), path and query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUrl {
    origin: String,
    path: String,
    query: Vec<Param>,
}

impl ProfileUrl {
    /// Splits `url` into its parts; an empty path (or only slashes) is the CPU profile.
    pub fn parse(url: &str) -> ProfileUrl {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let authority_at = base.find("://").map_or(0, |i| i + 3);
        let path_at = base[authority_at..]
            .find('/')
            .map_or(base.len(), |i| authority_at + i);
        let (origin, path) = base.split_at(path_at);
        let path = if path.trim_end_matches('/').is_empty() {
            CPU_PROFILE_PATH
        } else {
            path
        };
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => Param {
                    key: k.to_string(),
                    value: Some(v.to_string()),
                },
                None => Param {
                    key: kv.to_string(),
                    value: None,
                },
            })
            .collect();
        ProfileUrl {
            origin: origin.to_string(),
            path: path.to_string(),
            query,
        }
    }

    /// Replaces every `key=...` with one `key=value` at the end, the value percent-encoded.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.query.retain(|p| p.key != key || p.value.is_none());
        self.query.push(Param {
            key: key.to_string(),
            value: Some(utf8_percent_encode(value, QUERY_VALUE).to_string()),
        });
        self
    }

    /// `--seconds`: replaces any `seconds=` in the query.
    pub fn with_seconds(mut self, seconds: Option<u32>) -> Self {
        if let Some(s) = seconds {
            self.set("seconds", &s.to_string());
        }
        self
    }

    /// The first `key=` value, as written (still percent-encoded).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|p| p.key == key && p.value.is_some())
            .and_then(|p| p.value.as_deref())
    }

    /// How long the server will take: the first `seconds=`, if it is a number.
    pub fn seconds(&self) -> Option<u32> {
        self.get("seconds").and_then(|v| v.parse().ok())
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for ProfileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.path)?;
        for (i, p) in self.query.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            f.write_str(&p.key)?;
            if let Some(v) = &p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str, seconds: Option<u32>) -> String {
        ProfileUrl::parse(u).with_seconds(seconds).to_string()
    }

    #[test]
    fn host_port() {
        assert_eq!(url("h:6060", None), "h:6060/debug/pprof/profile");
        assert_eq!(
            url("h:6060/", Some(5)),
            "h:6060/debug/pprof/profile?seconds=5"
        );
        let u = ProfileUrl::parse("h:6060");
        assert_eq!((u.origin(), u.path()), ("h:6060", CPU_PROFILE_PATH));
    }

    #[test]
    fn scheme_host_port() {
        assert_eq!(
            url("http://h:6060", None),
            "http://h:6060/debug/pprof/profile"
        );
        assert_eq!(
            url("http://h:6060", Some(5)),
            "http://h:6060/debug/pprof/profile?seconds=5"
        );
        assert_eq!(
            url("https://h:6060//", Some(5)),
            "https://h:6060/debug/pprof/profile?seconds=5"
        );
        assert_eq!(
            url("http://h:6060?seconds=7", None),
            "http://h:6060/debug/pprof/profile?seconds=7"
        );
    }

    #[test]
    fn full_profile_url() {
        let full = "http://h:6060/debug/pprof/profile";
        assert_eq!(url(full, None), full);
        assert_eq!(url(full, Some(5)), format!("{full}?seconds=5"));
        assert_eq!(
            url(&format!("{full}?seconds=2"), None),
            format!("{full}?seconds=2")
        );
        assert_eq!(
            url(&format!("{full}?seconds=2"), Some(5)),
            format!("{full}?seconds=5")
        );
        // Other paths, trailing slashes and parameters are kept as written.
        assert_eq!(
            url("http://h:6060/debug/pprof/heap?gc=1&seconds=2", Some(5)),
            "http://h:6060/debug/pprof/heap?gc=1&seconds=5"
        );
        assert_eq!(
            url("http://h:6060/debug/pprof/goroutine/", None),
            "http://h:6060/debug/pprof/goroutine/"
        );
        assert_eq!(
            url(
                "http://h:6060/x?seconds=1&a=%2F&&seconds=2&seconds&b",
                Some(3)
            ),
            "http://h:6060/x?a=%2F&seconds&b&seconds=3"
        );
    }

    #[test]
    fn seconds() {
        let s = |u: &str| ProfileUrl::parse(u).seconds();
        assert_eq!(s("http://h:6060"), None);
        assert_eq!(s("http://h:6060?seconds=10"), Some(10));
        assert_eq!(s("http://h:6060?seconds=10&seconds=20"), Some(10));
        assert_eq!(s("http://h:6060?seconds=x&seconds=20"), None);
        assert_eq!(s("http://h:6060?seconds"), None);
        assert_eq!(
            ProfileUrl::parse("http://h:6060?seconds=10")
                .with_seconds(Some(4))
                .seconds(),
            Some(4)
        );
    }

    #[test]
    fn added_values_are_percent_encoded() {
        let mut u = ProfileUrl::parse("http://h:6060/debug/pprof/heap");
        u.set("label", "a b&c=d/é~");
        assert_eq!(
            u.to_string(),
            "http://h:6060/debug/pprof/heap?label=a%20b%26c%3Dd%2F%C3%A9~"
        );
        assert_eq!(u.get("label"), Some("a%20b%26c%3Dd%2F%C3%A9~"));
    }
}
