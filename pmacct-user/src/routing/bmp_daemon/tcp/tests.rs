use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

const R: &str = "192.0.2.1:40000";
const C: &str = "192.0.2.2:1790";

fn seg(flags: u8, seq: u32, payload: &[u8]) -> Segment<'_> {
    Segment { src: addr(R), dst: addr(C), seq, flags, payload }
}

/// Runs the segments and returns the events as text: `open`, the data joined, `close`.
fn run(segs: &[Segment<'_>]) -> (Vec<String>, TcpStats) {
    let mut re = Reassembler::new();
    let mut out = Vec::new();
    let mut f = |who: SocketAddr, ev: StreamEvent<'_>| {
        out.push(match ev {
            StreamEvent::Open => format!("open {who}"),
            StreamEvent::Data(d) => String::from_utf8_lossy(d).into_owned(),
            StreamEvent::Close => format!("close {who}"),
        });
    };
    for s in segs {
        re.push(s, &mut f);
    }
    re.finish(&mut f);
    (out, re.stats)
}

#[test]
fn in_order_with_syn_and_fin() {
    let synack = Segment { src: addr(C), dst: addr(R), seq: 7, flags: SYN | ACK, payload: b"" };
    let (ev, st) = run(&[
        seg(SYN, 99, b""),
        synack,
        seg(ACK, 100, b"abc"),
        seg(ACK, 103, b"de"),
        seg(FIN | ACK, 105, b"f"),
        Segment { src: addr(C), dst: addr(R), seq: 8, flags: FIN | ACK, payload: b"" },
    ]);
    assert_eq!(
        ev,
        [format!("open {R}"), "abc".into(), "de".into(), "f".into(), format!("close {R}")]
    );
    assert_eq!((st.connections, st.bytes, st.retransmitted), (1, 6, 0));
}

#[test]
fn retransmissions_and_overlaps_are_dropped() {
    let (ev, st) = run(&[
        seg(SYN, 0, b""),
        seg(ACK, 1, b"abcd"),
        seg(ACK, 1, b"abcd"), // retransmitted
        seg(ACK, 3, b"cdef"), // overlaps by 2
        seg(ACK, 5, b"ef"),   // all seen
    ]);
    assert_eq!(ev, [format!("open {R}"), "abcd".into(), "ef".into(), format!("close {R}")]);
    assert_eq!((st.retransmitted, st.bytes), (2, 6));
}

#[test]
fn out_of_order_segments_wait_for_the_gap() {
    let (ev, st) = run(&[
        seg(SYN, 1000, b""),
        seg(ACK, 1005, b"fgh"),
        seg(ACK, 1003, b"cd"),
        seg(ACK, 1001, b"ab"),
        seg(ACK, 1005, b"fgh"), // retransmitted after it was delivered
        seg(ACK, 1008, b"i"),
    ]);
    assert_eq!(
        ev,
        [
            format!("open {R}"),
            "ab".into(),
            "cd".into(),
            "fgh".into(),
            "i".into(),
            format!("close {R}")
        ]
    );
    assert_eq!((st.out_of_order, st.retransmitted, st.gaps), (2, 1, 0));
    // Bytes 3 and 4 were never captured: the hole is skipped when the stream ends.
    let (ev, st) = run(&[seg(SYN, 0, b""), seg(ACK, 1, b"ab"), seg(ACK, 5, b"xy")]);
    assert_eq!(ev, [format!("open {R}"), "ab".into(), "xy".into(), format!("close {R}")]);
    assert_eq!(st.gaps, 1);
}

#[test]
fn sequence_numbers_wrap() {
    let (ev, _) = run(&[
        seg(SYN, u32::MAX - 2, b""),
        seg(ACK, u32::MAX - 1, b"ab"),
        seg(ACK, 1, b"d"),
        seg(ACK, 0, b"c"),
    ]);
    assert_eq!(
        ev,
        [format!("open {R}"), "ab".into(), "c".into(), "d".into(), format!("close {R}")]
    );
}

#[test]
fn rst_ends_both_directions_and_a_reconnect_starts_over() {
    let rst_from_collector =
        Segment { src: addr(C), dst: addr(R), seq: 0, flags: RST, payload: b"" };
    let (ev, st) = run(&[
        seg(SYN, 0, b""),
        seg(ACK, 1, b"one"),
        rst_from_collector,
        seg(ACK, 4, b"late"), // no SYN: a stream picked up mid-way
        seg(SYN, 500, b""),
        seg(ACK, 501, b"two"),
    ]);
    assert_eq!(
        ev,
        [
            format!("open {R}"),
            "one".into(),
            format!("close {R}"),
            format!("open {R}"),
            "late".into(),
            format!("close {R}"),
            format!("open {R}"),
            "two".into(),
            format!("close {R}"),
        ]
    );
    assert_eq!(st.connections, 3);
}

#[test]
fn fin_waits_for_the_bytes_before_it() {
    let (ev, _) = run(&[seg(SYN, 0, b""), seg(FIN | ACK, 3, b"c"), seg(ACK, 1, b"ab")]);
    assert_eq!(ev, [format!("open {R}"), "ab".into(), "c".into(), format!("close {R}")]);
}

#[test]
fn segments_of_a_real_capture() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bmp/gobgpd-3.10-live.pcap");
    let mut rd = CaptureReader::open(&path).expect("capture");
    let mut re = Reassembler::new();
    let mut data = Vec::new();
    let mut events = Vec::new();
    while let Some(p) = rd.next_packet().expect("packet") {
        let s = segment(p.link_type, p.data).expect("a TCP segment");
        assert_eq!(s.dst.port().min(s.src.port()), 17901.min(s.src.port().max(s.dst.port())));
        re.push(&s, &mut |who, ev| match ev {
            StreamEvent::Data(d) => data.extend_from_slice(d),
            StreamEvent::Open => events.push(("open", who)),
            StreamEvent::Close => events.push(("close", who)),
        });
    }
    re.finish(&mut |_, _| panic!("every connection ended in the capture"));
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].1.port(), events[1].1.port());
    assert_ne!(events[0].1.port(), 17901, "the router is the side that connected");
    // The reassembled bytes are whole BMP messages, the first an Initiation.
    assert_eq!((data[0], data[5]), (3, 4));
    let mut f = crate::decode::bmp::BmpFramer::new();
    f.push(&data);
    let mut n = 0;
    while f.next_frame().expect("frame").is_some() {
        n += 1;
    }
    assert_eq!(f.pending(), 0);
    assert!(n >= 10, "{n} messages");
    assert_eq!(re.stats.retransmitted, 0);
}
