//! `/proc/<pid>/stat`: one line, `pid (comm) state ppid ... flags ...`. The command name may
//! hold spaces and parentheses, so fields are counted from the last `)`.

use crate::error::{ParseError, quote};

/// `PF_KTHREAD` in include/linux/sched.h: the task is a kernel thread.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The process's flags word (field 9).
pub fn flags(text: &str) -> Result<u64, ParseError> {
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| ParseError::expected("`pid (comm) ...`", text))?;
    // After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags.
    let field = rest
        .split_whitespace()
        .nth(6)
        .ok_or_else(|| ParseError::expected("at least 9 fields", text))?;
    field
        .parse()
        .map_err(|_| ParseError(format!("flags: expected a number, found {}", quote(field))))
}

/// The one-letter state (field 3): `R`, `S`, `D`, `Z` (zombie), `X` (dead), ...
pub fn state(text: &str) -> Result<char, ParseError> {
    text.rfind(')')
        .map(|i| &text[i + 1..])
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|f| f.chars().next())
        .ok_or_else(|| ParseError::expected("`pid (comm) state ...`", text))
}

/// Whether the flags mark a kernel thread (no user memory, no cgroup limits to speak of).
pub fn is_kernel_thread(flags: u64) -> bool {
    flags & PF_KTHREAD != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kthreadd_and_a_shell() {
        let kthreadd = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0";
        assert!(is_kernel_thread(flags(kthreadd).unwrap()));
        let bash = "4242 (bash) S 4241 4242 4242 34816 4300 4194304 900 0 0 0 1 0 0 0 20 0";
        assert!(!is_kernel_thread(flags(bash).unwrap()));
        assert_eq!(state(bash).unwrap(), 'S');
        assert_eq!(state("7 (a) b) Z 1 7 7").unwrap(), 'Z');
        assert!(state("no parenthesis").is_err());
    }

    #[test]
    fn names_with_spaces_and_parentheses() {
        let odd = "7 (a) b (c) R 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0";
        assert_eq!(flags(odd).unwrap(), 4194560);
    }

    #[test]
    fn truncated_and_garbled() {
        assert!(flags("7 (x) R 1").is_err());
        assert!(flags("no parens").is_err());
        assert!(flags("7 (x) R 1 7 7 0 -1 zz").is_err());
    }

    proptest! {
        #[test]
        fn the_flags_field_round_trips(name in "[ -~]{0,16}", f in any::<u64>()) {
            let line = format!("1 ({name}) S 0 1 1 0 -1 {f} 0 0 0 0");
            prop_assert_eq!(flags(&line).unwrap(), f);
        }

        #[test]
        fn never_panics(text in ".{0,200}") {
            let _ = flags(&text);
        }
    }
}
