//! SIGHUP re-reads a changed pre_tag_map while the plugins stay the same: records before the
//! signal keep their old tag, records after it get the new one, and no counter is lost.

mod daemon;

use std::net::UdpSocket;
use std::time::Duration;

use daemon::{Daemon, shared};
use pmacct_user::input::datagram::read_datagrams;

fn send_all(port: u16) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut n = 0u64;
    read_datagrams(&shared("exports/softflowd_v5.pcap"), &[], |d| {
        sock.send_to(d.payload, ("127.0.0.1", port)).expect("send");
        n += 1;
        if n.is_multiple_of(16) {
            std::thread::sleep(Duration::from_millis(2));
        }
    })
    .expect("read capture");
    n
}

#[test]
fn sighup_reloads_pre_tag_map_keeping_counters() {
    if !shared("exports").exists() {
        eprintln!("shared data absent: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let map = dir.path().join("tags.map");
    std::fs::write(&map, "set_tag=1 ip=127.0.0.1\n").expect("map");
    let port = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("port").port();
    let out = dir.path().join("out.csv");
    let conf = dir.path().join("nfacctd.conf");
    std::fs::write(
        &conf,
        format!(
            "plugins: print[p]\naggregate[p]: tag\nprint_output[p]: csv\nprint_output_file[p]: {}\n\
             print_refresh_time[p]: 86400\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n\
             metrics_listen: none\npre_tag_map: {}\n",
            out.display(),
            map.display()
        ),
    )
    .expect("conf");
    let d =
        Daemon::spawn(None, &["nfacctd", "-f", &conf.to_string_lossy()], dir.path().join("log"));
    d.wait_log("listening", 1, Duration::from_secs(20));
    let sent = send_all(port);
    assert!(sent > 0);
    std::thread::sleep(Duration::from_millis(1000));
    std::fs::write(&map, "set_tag=2 ip=127.0.0.1\n").expect("map");
    d.signal(libc::SIGHUP);
    d.wait_log("maps re-read", 1, Duration::from_secs(20));
    send_all(port);
    std::thread::sleep(Duration::from_millis(1000));
    d.stop();
    let text = std::fs::read_to_string(&out).expect("output");
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    let get = |tag: &str| rows.iter().find(|r| r[0] == tag).map(|r| (r[1], r[2]));
    let (one, two) = (get("1"), get("2"));
    assert!(one.is_some() && one == two, "same traffic before and after the reload:\n{text}");
}
