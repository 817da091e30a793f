use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::*;

/// Records what it was sent; fails while `down`.
#[derive(Default)]
struct Fake {
    down: bool,
    got: Vec<u64>,
}

impl Transport for Fake {
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item> {
        vec![Item { rows: batch.flushed_at as u64, meta: "m".into(), payload: vec![0; 100] }]
    }

    fn send(&mut self, item: &Item) -> Result<(), String> {
        if self.down {
            return Err("server down".into());
        }
        self.got.push(item.rows);
        Ok(())
    }
}

fn flush(id: i64) -> FlushBatch {
    FlushBatch { flushed_at: id, ..FlushBatch::default() }
}

fn cfg(memory: u64, spool: Option<&std::path::Path>, spool_bytes: u64) -> DeliveryConfig {
    DeliveryConfig {
        memory_bytes: memory,
        spool_dir: spool.map(|p| p.to_path_buf()),
        spool_bytes,
        retry_initial_ms: 1,
        retry_max_ms: 4,
        ..DeliveryConfig::default()
    }
}

fn drain(d: &mut Delivery<Fake>) {
    let until = Instant::now() + Duration::from_secs(2);
    while d.pending() > 0 && Instant::now() < until {
        d.tick();
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn outage_keeps_order_through_memory_and_spool() {
    let dir = tempfile::tempdir().unwrap();
    // 3 items of 101 bytes fit in memory; the rest spill to the spool.
    let mut d = Delivery::new(
        "t",
        Fake { down: true, ..Fake::default() },
        cfg(303, Some(dir.path()), 1 << 20),
    )
    .unwrap();
    for id in 1..=10 {
        d.write(&flush(id)).unwrap();
    }
    let s = d.stats();
    assert!(s.retries.load(Ordering::Relaxed) >= 1);
    // Once a send failed, everything waits on disk.
    assert_eq!(s.spool_items.load(Ordering::Relaxed), 10);
    assert_eq!(s.queued_items.load(Ordering::Relaxed), 0);
    d.transport.down = false;
    drain(&mut d);
    assert_eq!(d.transport().got, (1..=10).collect::<Vec<u64>>(), "every item, once, in order");
    assert_eq!(s.rows_sent.load(Ordering::Relaxed), 55);
    assert_eq!(s.rows_dropped.load(Ordering::Relaxed), 0);
    assert_eq!(s.spool_bytes.load(Ordering::Relaxed), 0);
}

#[test]
fn past_the_spool_bound_the_oldest_rows_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    // The spool holds 2 items (each spooled file is 113 bytes); once the first send failed,
    // every item goes there.
    let mut d =
        Delivery::new("t", Fake { down: true, ..Fake::default() }, cfg(101, Some(dir.path()), 226))
            .unwrap();
    for id in 1..=6 {
        d.write(&flush(id)).unwrap();
    }
    let s = d.stats();
    // 6 written: 2 spooled (5, 6), the 4 oldest dropped.
    assert_eq!(s.rows_dropped.load(Ordering::Relaxed), 1 + 2 + 3 + 4);
    d.transport.down = false;
    drain(&mut d);
    assert_eq!(d.transport().got, vec![5, 6]);
    // Without a spool, past the memory bound the oldest is dropped.
    let mut d =
        Delivery::new("t", Fake { down: true, ..Fake::default() }, cfg(101, None, 0)).unwrap();
    d.write(&flush(1)).unwrap();
    d.write(&flush(2)).unwrap();
    assert_eq!(d.stats().rows_dropped.load(Ordering::Relaxed), 1);
}

#[test]
fn close_spools_the_rest_and_the_next_start_sends_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Delivery::new(
        "t",
        Fake { down: true, ..Fake::default() },
        cfg(1 << 20, Some(dir.path()), 1 << 20),
    )
    .unwrap();
    for id in 1..=3 {
        d.write(&flush(id)).unwrap();
    }
    d.close(Instant::now() + Duration::from_millis(20));
    assert_eq!(d.stats().spool_items.load(Ordering::Relaxed), 3);
    drop(d);
    let mut d =
        Delivery::new("t", Fake::default(), cfg(1 << 20, Some(dir.path()), 1 << 20)).unwrap();
    d.write(&flush(4)).unwrap();
    drain(&mut d);
    assert_eq!(d.transport().got, vec![1, 2, 3, 4]);
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_maximum() {
    let mut d = Delivery::new(
        "t",
        Fake { down: true, ..Fake::default() },
        DeliveryConfig { retry_initial_ms: 100, retry_max_ms: 400, ..DeliveryConfig::default() },
    )
    .unwrap();
    d.write(&flush(1)).unwrap(); // first failure: waits ~100 ms
    let mut waits = Vec::new();
    for _ in 0..5 {
        let before = Instant::now();
        d.next_try = before; // due now
        d.tick();
        waits.push(d.next_try.duration_since(before).as_millis() as u64);
    }
    for (w, base) in waits.iter().zip([200u64, 400, 400, 400, 400]) {
        assert!(*w >= base * 3 / 4 && *w <= base * 5 / 4 + 1, "{waits:?}");
    }
}

/// Records each request's rows and payload size.
#[derive(Default)]
struct Sizes {
    got: Vec<(u64, usize)>,
}

impl Transport for Sizes {
    fn encode(&mut self, batch: &FlushBatch) -> Vec<Item> {
        let meta = if batch.flushed_at < 100 { "a" } else { "b" };
        vec![Item { rows: 10, meta: meta.into(), payload: vec![1; 100] }]
    }

    fn send(&mut self, item: &Item) -> Result<(), String> {
        self.got.push((item.rows, item.payload.len()));
        Ok(())
    }
}

#[test]
fn batching_merges_items_up_to_rows_bytes_and_delay() {
    let cfg = DeliveryConfig {
        batch_delay_ms: 60_000,
        batch_rows: 30,
        batch_bytes: 250,
        ..DeliveryConfig::default()
    };
    let mut d = Delivery::new("t", Sizes::default(), cfg).unwrap();
    // 30 rows fill a batch: sent at once; the bytes bound (250) seals after two items.
    for id in 1..=3 {
        d.write(&flush(id)).unwrap();
    }
    assert_eq!(d.transport().got, [(20, 200)], "two items fill the 250-byte bound");
    assert_eq!(d.pending(), 1, "the third waits for company or the delay");
    // Another destination seals the open batch.
    d.write(&flush(100)).unwrap();
    assert_eq!(d.transport().got, [(20, 200), (10, 100)]);
    assert_eq!(d.stats().queued_items.load(Ordering::Relaxed), 1);
    // Close sends what is open.
    d.close(Instant::now() + Duration::from_secs(1));
    assert_eq!(d.transport().got, [(20, 200), (10, 100), (10, 100)]);
    assert_eq!(d.stats().rows_sent.load(Ordering::Relaxed), 40);

    // The delay seals a batch that never fills.
    let cfg = DeliveryConfig { batch_delay_ms: 30, ..DeliveryConfig::default() };
    let mut d = Delivery::new("t", Sizes::default(), cfg).unwrap();
    d.write(&flush(1)).unwrap();
    d.write(&flush(2)).unwrap();
    assert!(d.transport().got.is_empty());
    std::thread::sleep(Duration::from_millis(40));
    d.tick();
    assert_eq!(d.transport().got, [(20, 200)]);

    // Without a delay every item goes as encoded.
    let mut d = Delivery::new("t", Sizes::default(), DeliveryConfig::default()).unwrap();
    d.write(&flush(1)).unwrap();
    d.write(&flush(2)).unwrap();
    assert_eq!(d.transport().got, [(10, 100), (10, 100)]);
}
