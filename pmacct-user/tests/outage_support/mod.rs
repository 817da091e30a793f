//! What the sink outage tests (AMQP, Kafka) share: aggregates totalled per key from the print
//! plugin's JSON and from what the broker holds, compared; waits on the daemon's metrics.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Packets and bytes per aggregate key (the JSON object without counters and `writer_id`).
pub type Totals = BTreeMap<String, (u64, u64)>;

pub fn add(totals: &mut Totals, line: &str) {
    let mut v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let obj = v.as_object_mut().expect("a JSON object");
    let packets = obj.remove("packets").and_then(|p| p.as_u64()).expect("packets");
    let bytes = obj.remove("bytes").and_then(|p| p.as_u64()).expect("bytes");
    obj.remove("writer_id");
    let t = totals.entry(v.to_string()).or_default();
    t.0 += packets;
    t.1 += bytes;
}

pub fn printed(path: &Path) -> Totals {
    let mut t = Totals::new();
    for line in std::fs::read_to_string(path).expect("print output").lines() {
        add(&mut t, line);
    }
    t
}

/// Keys missing or short in `got`, and the packets `got` has beyond `want` (duplicates).
pub fn compare(want: &Totals, got: &Totals) -> (Vec<String>, u64) {
    let mut missing = Vec::new();
    let mut extra = 0;
    for (k, &(p, b)) in want {
        let (gp, gb) = got.get(k).copied().unwrap_or_default();
        if gp < p || gb < b {
            missing.push(format!("{k}: {gp}/{p} packets"));
        }
        extra += gp.saturating_sub(p);
    }
    for (k, (gp, _)) in got {
        if !want.contains_key(k) {
            missing.push(format!("unexpected {k}"));
            extra += gp;
        }
    }
    (missing, extra)
}

/// Waits until `ok` holds for the metrics text (scraped every 100 ms).
pub fn wait_metrics(
    d: &crate::daemon::Daemon,
    port: u16,
    what: &str,
    timeout: Duration,
    ok: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    loop {
        let text = crate::daemon::scrape(port);
        if ok(&text) {
            return text;
        }
        let sink: Vec<&str> = text.lines().filter(|l| l.starts_with("pmacct_sink_")).collect();
        assert!(start.elapsed() < timeout, "never {what}:\n{}\n{}", sink.join("\n"), d.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub const LIVE: &str = "plugin=\"live\"";

pub fn metric(text: &str, name: &str) -> u64 {
    crate::daemon::metric_sum(text, name, LIVE)
}

/// Waits until the sink has sent something and nothing more for 1.5 refresh intervals, its
/// queue and spool empty: every flush so far is confirmed and no send is in flight.
pub fn wait_idle(d: &crate::daemon::Daemon, port: u16) {
    let mut last = u64::MAX;
    let mut since = Instant::now();
    let start = Instant::now();
    loop {
        let text = crate::daemon::scrape(port);
        let sent = metric(&text, "pmacct_sink_rows_sent_total");
        let pending =
            metric(&text, "pmacct_sink_queue_items") + metric(&text, "pmacct_sink_spool_items");
        if sent != last || pending > 0 || sent == 0 {
            last = sent;
            since = Instant::now();
        } else if since.elapsed() > Duration::from_millis(1500) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "sink never idle:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}
