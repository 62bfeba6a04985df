//! The admin HTTP endpoint (DESIGN §2.3): health, metrics, latency percentiles, devices, and who
//! was behind a ZPA connection.
//!
//! It is off the data path: its own HTTP server ([`server`]: a thread, a small runtime, two
//! handler threads), so a slow admin client never holds up a shard or the aggregator. The
//! handlers read shared state ([`Shared`]) under short locks.
//!
//! Routing is one `match (method, path)` in `route`; each handler is a small function that
//! returns a [`Reply`]. A route is added with one arm there (and its path in the 405 arm).

mod query;
mod server;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use hyper::Method;
use jiff::Timestamp;
use serde::Serialize;

use wire::device::device_id;
use wire::record::time::rfc3339;

use super::device_index::DeviceIndex;
use super::metrics::prometheus;
use crate::aggregate::attribution::Attributed;
use crate::aggregate::latency::LatencySummary;
use crate::aggregate::registry::Device;
use crate::aggregate::state::Shared;
use crate::sink::nats::kv::KvDevice;
pub use server::{HEAD_TIMEOUT, MAX_CONNECTIONS};

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The running endpoint; `stop` (or drop) shuts it down.
pub struct Admin {
    /// The address actually bound (the real port when started on port 0).
    pub addr: SocketAddr,
    server: server::Server,
}

impl Admin {
    /// Binds (port 0 allowed: `addr` reports the real one) and serves until `stop`.
    pub fn start(addr: SocketAddr, state: Arc<Shared>) -> io::Result<Admin> {
        let index = Mutex::new(DeviceIndex::default());
        let handler: Arc<server::Handler> =
            Arc::new(move |method: &Method, path: &str, query: &str| {
                route(&state, &index, method, path, query)
            });
        let server = server::Server::start(addr, handler)?;
        let addr = server.addr;
        tracing::info!(%addr, "admin endpoint listening");
        Ok(Admin { addr, server })
    }

    /// Stops accepting, lets answers being made finish (briefly), cuts the connections still
    /// open and closes the listening socket. Dropping an `Admin` does the same.
    pub fn stop(self) {
        self.server.stop();
    }
}

/// What a handler answers: status, content type, body.
pub type Reply = (u16, &'static str, String);

/// Every route of the endpoint.
fn route(
    state: &Shared,
    index: &Mutex<DeviceIndex>,
    method: &Method,
    path: &str,
    query: &str,
) -> Reply {
    // HEAD is GET without the body (which hyper leaves out): load balancers and uptime
    // checkers often probe /healthz with it, and a 405 there reads as "down".
    let get = method == Method::GET || method == Method::HEAD;
    match (get, path) {
        (true, "/devices") => devices(state, index, query),
        (true, "/healthz") => healthz(state),
        (true, "/attribution") => attribution(state, query, Timestamp::now()),
        (true, "/metrics") => metrics(state),
        (true, "/histograms") => histograms(state),
        (true, p) if p.starts_with("/devices/") => device(state, &p["/devices/".len()..]),
        (_, "/healthz" | "/attribution" | "/metrics" | "/histograms" | "/devices") => {
            json_error(405, "method not allowed")
        }
        (_, p) if p.starts_with("/devices/") => json_error(405, "method not allowed"),
        _ => json_error(404, "not found"),
    }
}

/// Prometheus text format, version 0.0.4.
fn metrics(state: &Shared) -> Reply {
    // A copy, so that the aggregator's next snapshot does not wait for the formatting (and the
    // percentiles taken for it).
    let Ok(snapshot) = state.snapshot.lock().map(|s| s.clone()) else {
        return json_error(500, "metrics unavailable");
    };
    let mut text = prometheus(&snapshot, &state.inputs);
    crate::obs::metrics::reloads(&mut text, &state.reloads, &state.reload_failed);
    crate::obs::metrics::cert_expiry(&mut text, &state.cert_expiry);
    (200, PROMETHEUS, text)
}

/// `GET /histograms`: latency percentiles (µs) since start and over the last interval.
fn histograms(state: &Shared) -> Reply {
    #[derive(Serialize)]
    struct Answer<'a> {
        interval_secs: u64,
        histograms: &'a [LatencySummary<'a>],
    }
    let Ok((interval_secs, latency)) =
        (state.snapshot.lock()).map(|s| (s.interval_secs, s.latency.clone()))
    else {
        return json_error(500, "histograms unavailable");
    };
    json(
        200,
        &Answer {
            interval_secs,
            histograms: &latency.summaries(),
        },
    )
}

/// A device as `/devices` shows it.
#[derive(Serialize)]
struct DeviceAnswer<'a> {
    device_id: String,
    hostname: &'a str,
    tags: Vec<&'a str>,
    first_seen: String,
    last_seen: String,
    ips: Vec<&'a str>,
    users: Vec<&'a str>,
    /// With NATS: whether the answer comes from the shared registry ("nats") or, while NATS
    /// cannot answer, from this collector's alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
}

impl<'a> DeviceAnswer<'a> {
    fn of(id: u64, d: Device<'a>) -> Self {
        DeviceAnswer {
            device_id: format!("{id:016x}"),
            hostname: d.hostname,
            tags: d.tags().collect(),
            first_seen: rfc3339(d.first_seen),
            last_seen: rfc3339(d.last_seen),
            ips: d.ips().collect(),
            users: d.users().collect(),
            source: None,
        }
    }

    fn from_kv(d: &'a KvDevice) -> Self {
        DeviceAnswer {
            device_id: d.device_id.clone(),
            hostname: &d.hostname,
            tags: d.tags.iter().map(String::as_str).collect(),
            first_seen: rfc3339(d.first_seen),
            last_seen: rfc3339(d.last_seen),
            ips: d.ips.iter().map(String::as_str).collect(),
            users: d.users.iter().map(String::as_str).collect(),
            source: None,
        }
    }
}

/// Most devices one page holds.
const PAGE_MAX: usize = 1000;

/// `GET /devices?offset=N&limit=N`: devices by hostname, a page at a time, from the admin
/// threads' index (see [`DeviceIndex`]): under the aggregator's lock, only the page's lookups.
/// `limit=0` is the count alone: a monitor asking how many devices there are.
fn devices(state: &Shared, index: &Mutex<DeviceIndex>, query: &str) -> Reply {
    #[derive(Serialize)]
    struct Page<'a> {
        total: usize,
        offset: usize,
        limit: usize,
        devices: Vec<DeviceAnswer<'a>>,
    }
    let (offset, limit) = match query::page(query) {
        Ok(page) => page,
        Err(e) => return json_error(400, &e),
    };
    let limit = limit.min(PAGE_MAX);
    let Ok(mut index) = index.lock() else {
        return json_error(500, "device index unavailable");
    };
    if !index.refresh(&state.registry) {
        return json_error(500, "registry unavailable");
    }
    let Ok(registry) = state.registry.lock() else {
        return json_error(500, "registry unavailable");
    };
    let page = Page {
        total: index.len(),
        offset,
        limit,
        devices: index
            .page(offset, limit)
            .filter_map(|id| registry.get(id).map(|d| DeviceAnswer::of(id, d)))
            .collect(),
    };
    json(200, &page)
}

/// `GET /devices/{hostname}`: one device, found by its key as any shard would hash it.
fn device(state: &Shared, name: &str) -> Reply {
    // A path, not a query: `+` and `&` are themselves (`alice+vpn@corp.com`).
    let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    // The name as asked; else, for an address, its one text, which names a device by its IP:
    // any spelling finds it, as at `/attribution` (`2001:db8:0::7`, `::ffff:10.7.7.7`). A
    // hostname that is itself such a spelling is its own device, found first.
    let asked = device_id(&name);
    let canonical = wire::device::canonical_ip(&name)
        .map(|ip| device_id(&ip))
        .filter(|&id| id != asked);
    let ids = [Some(asked), canonical];
    let found = {
        let Ok(registry) = state.registry.lock() else {
            return json_error(500, "registry unavailable");
        };
        ids.iter()
            .flatten()
            .find_map(|&id| registry.get(id).map(|d| (id, KvDevice::of(id, &d))))
    };
    // With NATS, the shared registry (every collector's view, merged) over the local one; the
    // local one alone while NATS cannot answer, or the bucket does not hold the device (not yet
    // merged, refused, or the bucket lost), said in `source`. A device only the bucket holds
    // is asked by each name, as the local one was.
    let (id, local) = found.map_or((None, None), |(id, d)| (Some(id), Some(d)));
    let (shared, source) = match state.nats.get() {
        None => (None, "local"),
        Some(link) => {
            let mut answer = (None, "local (not in the NATS bucket)");
            // The id found here, else each the name may be.
            let bucket: Vec<u64> =
                id.map_or_else(|| ids.iter().flatten().copied().collect(), |id| vec![id]);
            for id in bucket {
                match link.device(id) {
                    Ok(Some(found)) => {
                        answer = (Some(found), "nats");
                        break;
                    }
                    Ok(None) => {}
                    Err(_) => {
                        answer = (None, "local (NATS unavailable)");
                        break;
                    }
                }
            }
            answer
        }
    };
    let merged = match (local, shared) {
        // The local device merged into the shared one, as this collector's next merge writes
        // it: the bucket's order says which values are newest across collectors.
        (Some(l), Some(mut s)) => {
            s.merge(&l);
            s
        }
        (Some(d), None) | (None, Some(d)) => d,
        (None, None) => return json_error(404, "no such device"),
    };
    let mut answer = DeviceAnswer::from_kv(&merged);
    if state.nats.get().is_some() {
        answer.source = Some(source);
    }
    json(200, &answer)
}

/// How long the records output may fail to write what it holds (a full disk), or the
/// aggregator take no batch (that, or a full NATS spool), before `/healthz` says the collector is
/// unhealthy: a slow disk's moment is not.
const STALLED_UNHEALTHY_MS: u64 = 5_000;

/// 503 until every input listens, while draining, and while stalled past
/// [`STALLED_UNHEALTHY_MS`]. NATS down is said but still 200: the collector keeps taking records
/// (they wait in the spool), so a load balancer must not take it out of service for that.
fn healthz(state: &Shared) -> Reply {
    let since = state.stalled_since_ms.load(Ordering::Relaxed);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let stalled_ms = now.map_or(0, |d| (d.as_millis() as u64).saturating_sub(since));
    if state.draining.load(Ordering::Relaxed) {
        (503, TEXT, "draining\n".into())
    } else if !state.listening.load(Ordering::Relaxed) {
        (503, TEXT, "starting: the inputs do not listen yet\n".into())
    } else if since != 0 && stalled_ms >= STALLED_UNHEALTHY_MS {
        // With NATS down, what stalls is most often its spool, full of what waits for it.
        let why = if state.nats.get().is_some_and(|link| !link.is_connected()) {
            "nats down and its spool full (ztel_nats_spool_bytes), or the outputs cannot write \
             what they hold (ztel_output_write_errors_total)"
        } else {
            "the outputs cannot write what they hold (see ztel_output_write_errors_total)"
        };
        let message = format!(
            "stalled for {} s: {why}; past 16 MiB of it the inputs are not read\n",
            stalled_ms / 1000
        );
        (503, TEXT, message)
    } else {
        let mut said = String::from("ok");
        if state.nats.get().is_some_and(|link| !link.is_connected()) {
            said.push_str("; nats down: records are spooled");
        }
        // Left at start for an operator (each start tries again): a probe is where one looks.
        let waiting: u64 = state
            .snapshot
            .lock()
            .map_or(0, |s| s.outputs.waiting.iter().sum());
        if waiting > 0 {
            said.push_str(&format!(
                "; {waiting} spills of earlier runs wait in data_dir, not read back \
                 (ztel_output_spills_waiting; the start's log names them)"
            ));
        }
        said.push('\n');
        (200, TEXT, said)
    }
}

/// The answer to `/attribution`: the query echoed, then who, when found.
#[derive(Serialize)]
struct AttributionAnswer<'a> {
    found: bool,
    connector_ip: IpAddr,
    connector_port: u16,
    server_ip: IpAddr,
    server_port: u16,
    at: String,
    #[serde(flatten)]
    who: Option<&'a Attributed>,
}

/// `GET /attribution?connector_ip=IP&connector_port=N&server_ip=IP&server_port=N&at=TIME`: `at`
/// is RFC 3339 or epoch seconds, `now` when absent or empty. 200 when found, 404 when not, 400
/// naming the parameter that is missing or wrong.
fn attribution(state: &Shared, query: &str, now: Timestamp) -> Reply {
    let (key, at) = match query::flow(query, now) {
        Ok(q) => q,
        Err(e) => return json_error(400, &e),
    };
    state.attribution_loading.wait();
    let who = state
        .attribution
        .lock()
        // A panic elsewhere while holding the lock leaves the table usable for reading.
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .lookup(&key, at);
    let answer = AttributionAnswer {
        found: who.is_some(),
        // As records write them: one text for one address (`::ffff:10.0.0.1` is 10.0.0.1).
        connector_ip: key.connector_ip.to_canonical(),
        connector_port: key.connector_port,
        server_ip: key.server_ip.to_canonical(),
        server_port: key.server_port,
        at: rfc3339(at),
        who: who.as_ref(),
    };
    json(if who.is_some() { 200 } else { 404 }, &answer)
}

#[derive(Serialize)]
struct ErrorAnswer<'a> {
    error: &'a str,
}

fn json_error(status: u16, error: &str) -> Reply {
    json(status, &ErrorAnswer { error })
}

/// A JSON body, newline-terminated.
fn json(status: u16, value: &impl Serialize) -> Reply {
    match serde_json::to_string(value) {
        Ok(mut body) => {
            body.push('\n');
            (status, JSON, body)
        }
        Err(e) => {
            tracing::error!(error = %e, "admin answer did not serialise");
            (500, JSON, "{\"error\":\"internal error\"}\n".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let state = Shared::new(
            crate::aggregate::attribution::Attribution::new(10, std::time::Duration::from_secs(60)),
            crate::aggregate::registry::Registry::default(),
            vec![crate::batch::Source::Tcp],
        );
        let index = Mutex::new(DeviceIndex::default());
        assert_eq!(route(&state, &index, &Method::GET, "/healthz", "").0, 503);
        state.listening.store(true, Ordering::Relaxed);
        assert_eq!(
            route(&state, &index, &Method::GET, "/healthz", ""),
            (200, TEXT, "ok\n".into())
        );
        state.snapshot.lock().unwrap().outputs.waiting[1] = 2;
        let (status, _, said) = route(&state, &index, &Method::GET, "/healthz", "");
        assert_eq!(status, 200);
        assert!(
            said.starts_with("ok; 2 spills of earlier runs wait in data_dir"),
            "{said}"
        );
        // HEAD is GET (hyper leaves the body out); other methods are not allowed.
        assert_eq!(route(&state, &index, &Method::HEAD, "/healthz", "").0, 200);
        assert_eq!(route(&state, &index, &Method::PUT, "/healthz", "").0, 405);
        assert_eq!(
            route(&state, &index, &Method::POST, "/attribution", "").0,
            405
        );
        assert_eq!(route(&state, &index, &Method::GET, "/nope", "").0, 404);
        let key = "connector_ip=10.0.0.1&connector_port=40000&server_ip=10.0.0.2&server_port=443";
        let (status, ct, body) = route(&state, &index, &Method::GET, "/attribution", key);
        assert_eq!((status, ct), (404, JSON));
        assert!(
            body.starts_with("{\"found\":false,") && body.ends_with("}\n"),
            "{body}"
        );
        // From the IPv6 audit: a device named by its IP was found by that text alone.
        // A hostname that is itself an address's other spelling is its own device, found too.
        for ip in ["2001:db8::7", "10.7.7.7", "2001:db8:0::9"] {
            state
                .registry
                .lock()
                .unwrap()
                .apply(&crate::batch::DeviceNews {
                    id: device_id(ip),
                    key: ip,
                    tag: wire::device::Tag::Zia,
                    ip: None,
                    user: None,
                    seen: Timestamp::UNIX_EPOCH,
                });
        }
        for spelling in [
            "2001:db8::7",
            "2001:DB8:0::7",
            "2001:0db8:0000:0000:0000:0000:0000:0007",
            "10.7.7.7",
            "::ffff:10.7.7.7",
            "2001:db8:0::9",
        ] {
            let path = format!("/devices/{spelling}");
            assert_eq!(
                route(&state, &index, &Method::GET, &path, "").0,
                200,
                "{path}"
            );
        }
        assert_eq!(
            route(&state, &index, &Method::GET, "/devices/2001:db8::8", "").0,
            404
        );
        // From the IPv6 audit: the answer echoed a v4-mapped address as it was asked, where
        // records write it as IPv4.
        let mapped =
            "connector_ip=::ffff:10.0.0.1&connector_port=1&server_ip=::FFFF:a00:2&server_port=2";
        let (_, _, body) = route(&state, &index, &Method::GET, "/attribution", mapped);
        assert!(
            body.contains("\"connector_ip\":\"10.0.0.1\"")
                && body.contains("\"server_ip\":\"10.0.0.2\""),
            "{body}"
        );
    }
}
