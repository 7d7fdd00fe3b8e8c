//! A byte cursor for the runtime's fixed-shape trace lines: literal text and unsigned or
//! decimal numbers, nothing else. Hand-written because a million lines must parse in well
//! under a second.

pub struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            pos: 0,
        }
    }

    /// The unread rest of the line.
    pub fn rest(&self) -> &'a str {
        // Only ASCII is ever consumed, so `pos` is always on a char boundary.
        std::str::from_utf8(&self.s[self.pos..]).unwrap_or("")
    }

    /// Consumes `lit` if the input continues with it.
    pub fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, lit: &str) -> Option<()> {
        self.eat(lit).then_some(())
    }

    /// Consumes one or more spaces.
    pub fn spaces(&mut self) -> Option<()> {
        let start = self.pos;
        while self.s.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }

    pub fn skip_spaces(&mut self) {
        while self.s.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// An unsigned decimal integer (no sign, at least one digit, no overflow).
    pub fn uint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        let start = self.pos;
        while let Some(&b) = self.s.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.pos += 1;
        }
        (self.pos > start).then_some(n)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.uint().and_then(|n| u32::try_from(n).ok())
    }

    /// A non-negative decimal such as `12`, `0.044` or `1.2` (what the runtime prints for
    /// milliseconds and seconds).
    pub fn decimal(&mut self) -> Option<f64> {
        let int = self.uint()?;
        if self.peek() != Some(b'.') {
            return Some(int as f64);
        }
        self.pos += 1;
        let (mut frac, mut scale) = (0u64, 1u64);
        let start = self.pos;
        while let Some(&b) = self.s.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            // Digits beyond 18 add nothing an f64 can hold; skip them without overflow.
            if scale < 1_000_000_000_000_000_000 {
                frac = frac * 10 + u64::from(b - b'0');
                scale *= 10;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| int as f64 + frac as f64 / scale as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut c = Cursor::new("0.044+12+1.2x");
        assert_eq!(c.decimal(), Some(0.044));
        assert!(c.eat("+"));
        assert_eq!(c.decimal(), Some(12.0));
        assert!(c.eat("+"));
        assert_eq!(c.decimal(), Some(1.2));
        assert_eq!(c.rest(), "x");
        assert_eq!(Cursor::new("1.").decimal(), None);
        assert_eq!(Cursor::new(".5").decimal(), None);
        assert_eq!(Cursor::new("99999999999999999999").uint(), None);
        assert_eq!(Cursor::new("4294967296").u32(), None);
    }
}
