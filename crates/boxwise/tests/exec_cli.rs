//! `boxwise exec`'s command line: usage errors, a command that cannot run, arguments that
//! look like options after CMD.

use std::process::Command;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BOXWISE)
        .args(args)
        .env_remove("GOMAXPROCS")
        .env_remove("GOMEMLIMIT")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_mistyped_option_is_a_usage_error() {
    let (code, _, err) = run(&["exec", "--quite", "--", "true"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unexpected argument '--quite'"), "{err}");
}

#[test]
fn no_command_is_a_usage_error() {
    let (code, _, err) = run(&["exec"]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn a_missing_program_exits_127_with_one_line() {
    let (code, _, err) = run(&["exec", "--quiet", "--", "/nonexistent/program"]);
    assert_eq!(code, Some(127));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.trim_end(),
        "boxwise: cannot run /nonexistent/program: No such file or directory"
    );
}

/// A script whose `#!` interpreter is missing: 127 like a shell, naming the interpreter
/// (the script itself is there, so "No such file" alone would mislead).
#[test]
fn a_missing_interpreter_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sh");
    std::fs::write(&script, "#!/no/such/interp\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, _, err) = run(&["exec", "--quiet", "--", script.to_str().unwrap()]);
    assert_eq!(code, Some(127), "{err}");
    assert!(
        err.contains("its interpreter /no/such/interp: No such file or directory"),
        "{err}"
    );
}

#[test]
fn options_after_the_command_belong_to_it() {
    let (code, out, _) = run(&[
        "exec",
        "--quiet",
        "sh",
        "-c",
        "echo \"$0 $1 $GOMAXPROCS\"",
        "--flag",
        "x",
    ]);
    assert_eq!(code, Some(0));
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&fields[..2], ["--flag", "x"]);
    assert!(
        fields[2].parse::<u32>().unwrap() >= 1,
        "GOMAXPROCS was set: {out}"
    );
}

/// An ELF for another architecture (or cut short) fails as a shell's exec does: 126,
/// "Exec format error", never handed to /bin/sh as a script.
#[test]
fn a_foreign_elf_is_an_exec_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("other-arch");
    let mut head = b"\x7fELF\x02\x01\x01".to_vec();
    head.resize(18, 0);
    let other: u16 = if std::env::consts::ARCH == "aarch64" {
        62
    } else {
        183
    };
    head.extend_from_slice(&other.to_le_bytes());
    head.resize(128, 0);
    std::fs::write(&elf, &head).unwrap();
    std::fs::set_permissions(&elf, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, _, err) = run(&["exec", "--quiet", "--", elf.to_str().unwrap()]);
    assert_eq!(code, Some(126), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("Exec format error (an ELF for"), "{err}");
}
