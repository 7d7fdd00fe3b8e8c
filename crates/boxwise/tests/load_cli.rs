//! `boxwise load` end to end against a small server in the test process.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use assert_cmd::Command;

/// Answers every request on every connection with a 6-byte body.
fn hello_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    while let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..i + 4);
                        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";
                        if s.write_all(r).is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    url
}

#[test]
fn load_json_reports_every_request() {
    let url = hello_server();
    let out = Command::cargo_bin("boxwise")
        .unwrap()
        .args(["load", &url, "--rate", "200", "--duration", "500ms"])
        .args(["--connections", "2", "--json"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["requests"], 100, "{doc}");
    assert_eq!(doc["ok"], 100, "{doc}");
    assert_eq!(doc["errors"], 0, "{doc}");
    for key in [
        "achieved_rate",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "mean_ms",
    ] {
        assert!(doc[key].is_number(), "{key} in {doc}");
    }
}

#[test]
fn load_text_report() {
    let url = hello_server();
    let out = Command::cargo_bin("boxwise")
        .unwrap()
        .args(["load", &url, "--rate", "100", "--duration", "0.3"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("30 (30 ok, 0 errors"), "{text}");
    assert!(text.contains("p99.9"), "{text}");
}

#[test]
fn https_is_a_usage_error_naming_the_url() {
    let out = Command::cargo_bin("boxwise")
        .unwrap()
        .args([
            "load",
            "https://127.0.0.1/",
            "--rate",
            "1",
            "--duration",
            "1s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("https is not supported") && err.contains("https://127.0.0.1/"),
        "{err}"
    );
}

#[test]
fn a_server_that_never_answers_is_an_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let out = Command::cargo_bin("boxwise")
        .unwrap()
        .args([
            "load",
            &url,
            "--rate",
            "1",
            "--duration",
            "1s",
            "--ready-timeout",
            "300ms",
        ])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&url) && err.contains("did not answer"),
        "{err}"
    );
}
