//! Syscall and errno names. Numbers differ by architecture (x86_64 has its own table,
//! aarch64 uses the kernel's generic one); the tables come from the kernel headers.

use crate::tables;

/// The instruction set whose syscall numbers a trace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The architecture this binary runs on (and so traces: the raw tracepoint reports the
    /// native syscall numbers; 32-bit compat calls are not told apart).
    pub fn native() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The name of syscall `nr`, or `syscall_<nr>` when the table has none.
    pub fn name(self, nr: u32) -> String {
        let table: &[&str] = match self {
            Arch::X86_64 => &tables::X86_64,
            Arch::Aarch64 => &tables::AARCH64,
        };
        match table.get(nr as usize) {
            Some(n) if !n.is_empty() => (*n).to_string(),
            _ => format!("syscall_{nr}"),
        }
    }

    /// The number of the syscall called `name` (for rules keyed by name).
    pub fn number(self, name: &str) -> Option<u32> {
        let table: &[&str] = match self {
            Arch::X86_64 => &tables::X86_64,
            Arch::Aarch64 => &tables::AARCH64,
        };
        table.iter().position(|n| *n == name).map(|i| i as u32)
    }
}

/// The symbolic name of an errno (`ENOENT`), or `E<n>` when unknown.
pub fn errno_name(errno: u32) -> String {
    match tables::ERRNO.get(errno as usize) {
        Some(n) if !n.is_empty() => (*n).to_string(),
        _ => format!("E{errno}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn well_known_numbers() {
        assert_eq!(Arch::X86_64.name(1), "write");
        assert_eq!(Arch::X86_64.name(202), "futex");
        assert_eq!(Arch::X86_64.name(24), "sched_yield");
        assert_eq!(Arch::X86_64.name(281), "epoll_pwait");
        assert_eq!(Arch::Aarch64.name(64), "write");
        assert_eq!(Arch::Aarch64.name(98), "futex");
        assert_eq!(Arch::Aarch64.name(124), "sched_yield");
        assert_eq!(Arch::Aarch64.name(25), "fcntl");
        assert_eq!(Arch::X86_64.name(435), "clone3");
        assert_eq!(Arch::Aarch64.name(435), "clone3");
        assert_eq!(Arch::X86_64.name(462), "mseal");
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(errno_name(111), "ECONNREFUSED");
        assert_eq!(errno_name(11), "EAGAIN");
    }

    proptest! {
        #[test]
        fn names_round_trip(nr in 0u32..600) {
            for arch in [Arch::X86_64, Arch::Aarch64] {
                let name = arch.name(nr);
                prop_assert!(!name.is_empty());
                if !name.starts_with("syscall_") {
                    prop_assert_eq!(arch.number(&name), Some(nr));
                }
            }
            prop_assert!(!errno_name(nr).is_empty());
        }
    }
}
