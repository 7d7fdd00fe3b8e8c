//! How numbers are written for people: `256 MiB`, `1.5 CPUs`.

/// Bytes in binary units, with one decimal unless the value is whole: `256 MiB`, `230.4 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{} {}", decimal(value, 1), UNITS[unit])
    }
}

/// A CPU count: `1 CPU`, `1.5 CPUs`.
pub fn cpus(n: f64) -> String {
    let text = decimal(n, 3);
    if text == "1" {
        "1 CPU".to_string()
    } else {
        format!("{text} CPUs")
    }
}

/// At most `places` decimals, without trailing zeros: 1.5, 2, 0.333.
pub fn decimal(n: f64, places: usize) -> String {
    let text = format!("{n:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(268435456), "256 MiB");
        assert_eq!(bytes(241591910), "230.4 MiB");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(cpus(1.5), "1.5 CPUs");
        assert_eq!(cpus(1.0), "1 CPU");
        assert_eq!(cpus(2.0), "2 CPUs");
        assert_eq!(cpus(1.0 / 3.0), "0.333 CPUs");
    }
}
