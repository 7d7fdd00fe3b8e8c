//! The Docker engine's image export (`GET /images/NAME/get`, what `docker save` calls) over
//! its unix socket (`boxwise-engine`): one blocking request, the body a `docker save` tar.

use std::io::Read;
use std::path::PathBuf;

use crate::Error;

/// The engine socket: `DOCKER_HOST=unix:///path` or `/var/run/docker.sock`.
pub fn socket_path() -> Result<PathBuf, Error> {
    boxwise_engine::socket_path().map_err(|h| {
        Error::Engine(format!(
            "DOCKER_HOST={h}: only unix:// sockets are supported; use `docker save` and \
             pass the archive"
        ))
    })
}

/// Starts the export of `name` and returns the body as a stream.
pub fn export(name: &str) -> Result<Box<dyn Read>, Error> {
    let socket = socket_path()?;
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    // No timeout: an export streams for as long as the image is large.
    let resp = boxwise_engine::get(&socket, &format!("/images/{encoded}/get"), None)
        .map_err(|e| Error::Engine(format!("{}: {e}", socket.display())))?;
    if resp.status != 200 {
        let mut msg = String::new();
        let _ = resp.body.take(4096).read_to_string(&mut msg);
        return Err(Error::Engine(refusal(
            name,
            resp.status,
            &resp.reason,
            &msg,
        )));
    }
    Ok(resp.body)
}

/// The engine's refusal as one line: its JSON `message`, else the body, else what the
/// status line's reason (a redirect or a proxy's error may have no body).
pub(crate) fn refusal(name: &str, status: u16, reason: &str, body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string());
    let text = crate::one_line(text.trim(), 200);
    let reason = match crate::one_line(reason.trim(), 60) {
        r if r.is_empty() => "(no reason given)".to_string(),
        r => r,
    };
    if text.is_empty() {
        format!("image {name:?}: engine said {status} {reason}")
    } else {
        format!("image {name:?}: engine said {status} {reason}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn refusal_without_a_body_says_the_status() {
        assert_eq!(
            refusal("x", 301, "Moved Permanently", ""),
            "image \"x\": engine said 301 Moved Permanently"
        );
        assert_eq!(
            refusal(
                "x",
                404,
                "Not Found",
                "{\"message\":\"No such image: x:latest\"}\n"
            ),
            "image \"x\": engine said 404 Not Found: No such image: x:latest"
        );
        assert_eq!(
            refusal("x", 502, "", "bad\ngateway"),
            "image \"x\": engine said 502 (no reason given): bad\\ngateway"
        );
    }
}
