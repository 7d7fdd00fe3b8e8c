//! Counter files read every refresh, parsed without allocating: one value by key from
//! `key value` lines (`cpu.stat`), or a lone integer (`cpuacct.usage`,
//! `memory.usage_in_bytes`). Agrees with `boxwise-box`'s `cgroupfs` parsers (tested).

/// The value of `key` in `key value` lines; `None` when absent or not an integer.
pub fn value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.trim().split_once(char::is_whitespace)?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// A file holding one unsigned integer.
pub fn integer(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_box::parse::cgroupfs;
    use proptest::prelude::*;

    #[test]
    fn a_v1_cpu_stat() {
        let t = "nr_periods 54\nnr_throttled 52\nthrottled_time 3382787663\n";
        assert_eq!(value(t, "nr_periods"), Some(54));
        assert_eq!(value(t, "nr_throttled"), Some(52));
        assert_eq!(value(t, "throttled_time"), Some(3382787663));
        assert_eq!(value(t, "nr_burst"), None);
        assert_eq!(integer("123456\n"), Some(123456));
        assert_eq!(integer("max\n"), None);
    }

    proptest! {
        #[test]
        fn agrees_with_the_keyed_parser(
            pairs in proptest::collection::vec(("[a-z_]{1,12}", any::<u64>()), 0..8),
            probe in "[a-z_]{1,12}",
        ) {
            let text: String = pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
            let keyed = cgroupfs::keyed(&text).unwrap();
            for (k, _) in &pairs {
                prop_assert_eq!(value(&text, k), keyed.get(k));
            }
            prop_assert_eq!(value(&text, &probe), keyed.get(&probe));
        }

        #[test]
        fn integers_agree(n in any::<u64>()) {
            let text = format!("{n}\n");
            prop_assert_eq!(integer(&text), cgroupfs::integer(&text).ok());
        }

        #[test]
        fn garbage_never_panics(text in "\\PC{0,200}", key in "\\PC{0,10}") {
            let _ = value(&text, &key);
            let _ = integer(&text);
        }
    }
}
