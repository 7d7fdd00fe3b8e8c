//! The kernel's CPU list format ("0-3,6,8-9"), as in /sys/devices/system/cpu/possible.

/// How many CPUs the list names; `None` when it is not a valid list.
pub fn count(s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = part.parse::<usize>().ok()?;
                (a, a)
            }
        };
        if b < a || b > 1 << 20 {
            return None;
        }
        n += b - a + 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lists() {
        assert_eq!(count("0-1\n"), Some(2));
        assert_eq!(count("0"), Some(1));
        assert_eq!(count("0-3,6,8-9"), Some(7));
        assert_eq!(count("3-1"), None);
        assert_eq!(count(""), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = count(&s);
        }

        #[test]
        fn ranges_add_up(ranges in proptest::collection::vec((0usize..1000, 0usize..50), 1..8)) {
            let text: Vec<String> = ranges.iter().map(|(a, l)| format!("{a}-{}", a + l)).collect();
            let want: usize = ranges.iter().map(|(_, l)| l + 1).sum();
            prop_assert_eq!(count(&text.join(",")), Some(want));
        }
    }
}
