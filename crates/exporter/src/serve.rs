//! The HTTP edge: `/metrics` answers from the last rendered snapshot, `/healthz` says
//! whether that snapshot is fresh. A background thread takes a new snapshot each
//! interval; a scrape only clones a reference to text already rendered.

use std::io;
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Response, Server};

pub struct Config {
    pub listen: String,
    pub interval: Duration,
}

/// The text served, and when it was made.
struct Cached {
    text: Arc<String>,
    at: Instant,
}

/// Bind `config.listen`, then serve forever. `collect` returns the exposition text of a
/// fresh snapshot; it runs on its own thread, first before the port answers /metrics.
pub fn serve<F>(config: Config, mut collect: F, ready: impl FnOnce(&str)) -> io::Result<()>
where
    F: FnMut() -> String + Send + 'static,
{
    let server = Server::http(&config.listen).map_err(|e| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("cannot listen on {}: {e}", config.listen),
        )
    })?;
    let cache = Arc::new(RwLock::new(Cached {
        text: Arc::new(collect()),
        at: Instant::now(),
    }));
    let writer = Arc::clone(&cache);
    let interval = config.interval;
    thread::Builder::new()
        .name("collect".into())
        .spawn(move || {
            loop {
                thread::sleep(interval);
                let text = Arc::new(collect());
                let mut c = writer.write().unwrap_or_else(|e| e.into_inner());
                *c = Cached {
                    text,
                    at: Instant::now(),
                };
            }
        })?;
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| config.listen.clone(), |a| a.to_string());
    ready(&addr);
    let stale_after = interval * 3 + Duration::from_secs(5);
    for request in server.incoming_requests() {
        let (text, age) = {
            let c = cache.read().unwrap_or_else(|e| e.into_inner());
            (Arc::clone(&c.text), c.at.elapsed())
        };
        let path = request.url().split('?').next().unwrap_or("").to_string();
        let response = match (request.method(), path.as_str()) {
            (Method::Get | Method::Head, "/metrics") => Response::from_string(text.as_str())
                .with_header(header("text/plain; version=0.0.4; charset=utf-8")),
            (Method::Get | Method::Head, "/healthz") if age <= stale_after => {
                Response::from_string("ok\n").with_header(header("text/plain; charset=utf-8"))
            }
            (Method::Get | Method::Head, "/healthz") => Response::from_string(format!(
                "stale: last snapshot {:.0} s ago\n",
                age.as_secs_f64()
            ))
            .with_status_code(503),
            (Method::Get | Method::Head, "/") => {
                Response::from_string("boxwise exporter: metrics at /metrics, health at /healthz\n")
            }
            _ => Response::from_string("not found\n").with_status_code(404),
        };
        // A client that hung up is not our error.
        let _ = request.respond(response);
    }
    Ok(())
}

fn header(content_type: &str) -> Header {
    Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes())
        .expect("a static header is valid")
}
