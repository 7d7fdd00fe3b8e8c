//! Go's string quoting (`strconv.Quote`, `strconv.Unquote`, `strconv.QuotedPrefix`), as far as
//! build settings need it: `go version -m` quotes a key or value that holds a space, tab, CR, LF,
//! `"` or a backquote, and the build-info parser accepts `"..."` and `` `...` `` quoting.

/// Whether `go version -m` quotes a build-setting key (`runtime/debug.quoteKey`).
pub fn needs_quote_key(key: &str) -> bool {
    key.is_empty() || key.contains(['=', ' ', '\t', '\r', '\n', '"', '`'])
}

/// Whether `go version -m` quotes a build-setting value (`runtime/debug.quoteValue`).
pub fn needs_quote_value(value: &str) -> bool {
    value.contains([' ', '\t', '\r', '\n', '"', '`'])
}

/// `strconv.Quote`: a double-quoted Go string literal.
///
/// ASCII is handled exactly as Go does. For other characters Go consults its Unicode tables
/// (`unicode.IsPrint`); this uses a close approximation (control, format, private-use and
/// non-ASCII space characters are escaped).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` (exact for ASCII).
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x180e
        | 0x200b..=0x200f
        | 0x202a..=0x202e
        | 0x2060..=0x206f
        | 0xd800..=0xf8ff
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0xfffe..=0xffff
        | 0xe0000..=0xe0fff
        | 0xf0000..)
}

/// Why a quoted string was rejected (Go's `strconv.ErrSyntax`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError;

/// `strconv.Unquote` for `"..."` and `` `...` `` literals: the whole input must be one literal.
pub fn unquote(s: &str) -> Result<String, SyntaxError> {
    let (value, rest) = unquote_prefix(s)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(SyntaxError)
    }
}

/// `strconv.QuotedPrefix`: the leading quoted literal of `s`, quotes included.
pub fn quoted_prefix(s: &str) -> Result<&str, SyntaxError> {
    let (_, rest) = unquote_prefix(s)?;
    Ok(&s[..s.len() - rest.len()])
}

/// Decodes the literal at the start of `s`; returns its value and what follows it.
fn unquote_prefix(s: &str) -> Result<(String, &str), SyntaxError> {
    let bytes = s.as_bytes();
    let Some(&q) = bytes.first() else {
        return Err(SyntaxError);
    };
    if s.len() < 2 {
        return Err(SyntaxError);
    }
    match q {
        b'`' => {
            let end = s[1..].find('`').ok_or(SyntaxError)? + 1;
            let value: String = s[1..end].chars().filter(|&c| c != '\r').collect();
            Ok((value, &s[end + 1..]))
        }
        b'"' => {
            let mut buf: Vec<u8> = Vec::new();
            let mut i = 1;
            loop {
                let Some(&c) = bytes.get(i) else {
                    return Err(SyntaxError);
                };
                match c {
                    b'"' => break,
                    b'\n' => return Err(SyntaxError),
                    b'\\' => i = unescape(bytes, i + 1, &mut buf)?,
                    _ => {
                        buf.push(c);
                        i += 1;
                    }
                }
            }
            Ok((String::from_utf8_lossy(&buf).into_owned(), &s[i + 1..]))
        }
        _ => Err(SyntaxError),
    }
}

/// Decodes one escape whose letter is at `bytes[i]`; returns the index after it.
fn unescape(bytes: &[u8], i: usize, buf: &mut Vec<u8>) -> Result<usize, SyntaxError> {
    let c = *bytes.get(i).ok_or(SyntaxError)?;
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(b) = simple {
        buf.push(b);
        return Ok(i + 1);
    }
    let hex = |from: usize, n: usize| -> Result<u32, SyntaxError> {
        let digits = bytes.get(from..from + n).ok_or(SyntaxError)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            let v = (d as char).to_digit(16).ok_or(SyntaxError)?;
            Ok(acc * 16 + v)
        })
    };
    match c {
        b'x' => {
            buf.push(hex(i + 1, 2)? as u8);
            Ok(i + 3)
        }
        b'u' | b'U' => {
            let n = if c == b'u' { 4 } else { 8 };
            let ch = char::from_u32(hex(i + 1, n)?).ok_or(SyntaxError)?;
            let mut tmp = [0u8; 4];
            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            Ok(i + 1 + n)
        }
        b'0'..=b'7' => {
            let digits = bytes.get(i..i + 3).ok_or(SyntaxError)?;
            let mut v: u32 = 0;
            for &d in digits {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(SyntaxError);
                }
                v = v * 8 + u32::from(d - b'0');
            }
            if v > 255 {
                return Err(SyntaxError);
            }
            buf.push(v as u8);
            Ok(i + 3)
        }
        _ => Err(SyntaxError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("-s -w"), r#""-s -w""#);
        assert_eq!(quote("a\"b\\c\td\n"), r#""a\"b\\c\td\n""#);
        assert_eq!(quote("\x01\x7f"), r#""\x01\x7f""#);
        assert_eq!(quote("é"), "\"é\"");
        assert_eq!(quote("\u{a0}\u{feff}"), r#""\u00a0\ufeff""#);
        assert_eq!(quote("\u{f0000}"), r#""\U000f0000""#);
    }

    #[test]
    fn unquotes_like_go() {
        assert_eq!(unquote(r#""a b""#).unwrap(), "a b");
        assert_eq!(
            unquote(r#""\x41\101\u00e9\U0001F600\t""#).unwrap(),
            "AAé😀\t"
        );
        assert_eq!(unquote("`a\r\\b`").unwrap(), "a\\b");
        assert!(unquote(r#""a"b"#).is_err());
        assert!(unquote("\"a\nb\"").is_err());
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\777""#).is_err());
        assert!(unquote(r#""\ud800""#).is_err());
        assert!(unquote("\"").is_err());
        assert!(unquote("").is_err());
        assert_eq!(quoted_prefix(r#""k=v"=x"#).unwrap(), r#""k=v""#);
        assert_eq!(quoted_prefix("`a`b").unwrap(), "`a`");
    }

    #[test]
    fn quote_predicates() {
        assert!(needs_quote_key(""));
        assert!(needs_quote_key("a=b"));
        assert!(!needs_quote_value("a=b"));
        assert!(needs_quote_value("-s -w"));
        assert!(!needs_quote_key("GOAMD64"));
    }

    proptest! {
        #[test]
        fn quote_then_unquote_is_identity(s in any::<String>()) {
            prop_assert_eq!(unquote(&quote(&s)).unwrap(), s);
        }

        #[test]
        fn unquote_never_panics(s in any::<String>()) {
            let _ = unquote(&s);
            let _ = quoted_prefix(&s);
        }

        #[test]
        fn unquote_escapes_never_panic(s in r#""(\\[0-9a-zA-Z"\\]{0,9}|[a-z ]){0,8}"?"#) {
            let _ = unquote(&s);
            let _ = quoted_prefix(&s);
        }
    }
}
