//! Custom primitives (`aggregate_primitives`) in the memory plugin: nfacctd 1.7.7's memory
//! plugin read with pmacct's own client (`pmacct -s`) and ours read with `pmacct-rs query`,
//! both accounting pmacct's nfprobe IPFIX export with the same config, print the same table.

mod pmacct_side_by_side;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pmacct_side_by_side::{BIN, OURS_ONLY, available, shared};

const PRIMITIVES: &str = "name=src4\tfield_type=8\tlen=4\tsemantics=ip\n\
    name=sport\tfield_type=7\tlen=2\tsemantics=u_int\n\
    name=proto_x\tfield_type=4\tlen=1\tsemantics=hex\n\
    name=smac\tfield_type=56\tlen=6\tsemantics=mac\n";

fn conf(dir: &Path, pipe: &Path) -> String {
    format!(
        "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: true\n\
         aggregate_primitives: {}\nplugins: memory[m]\n\
         aggregate[m]: dst_port, src4, sport, proto_x, smac\nimt_path[m]: {}\n",
        shared("exports/pmacct_nfprobe_ipfix.pcap").display(),
        dir.join("primitives.lst").display(),
        pipe.display()
    )
}

/// The table a client prints, as a set of lines, once two reads a moment apart agree and are
/// not empty (the daemons account the capture and then keep serving it).
fn settled(read: impl Fn() -> Option<String>) -> BTreeSet<String> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(t) = read()
            && t.contains("For a total of")
            && !t.contains("For a total of: 0 entries")
        {
            if t == last {
                return t.lines().map(str::to_string).collect();
            }
            last = t;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the table never settled; last read:\n{last}");
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Kill(Vec<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn memory_table_with_custom_primitives_matches_pmacct_client() {
    if !available("nfacctd") || !available("pmacct") {
        eprintln!("nfacctd/pmacct 1.7.7 or the shared data missing: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("primitives.lst"), PRIMITIVES).expect("primitives");
    let (their_pipe, our_pipe) = (dir.path().join("pm.pipe"), dir.path().join("ours.pipe"));
    let (their_conf, our_conf) = (dir.path().join("pm.conf"), dir.path().join("ours.conf"));
    std::fs::write(&their_conf, conf(dir.path(), &their_pipe)).expect("conf");
    std::fs::write(&our_conf, conf(dir.path(), &our_pipe) + OURS_ONLY).expect("conf");
    let quiet = |c: &mut Command| -> Child {
        c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn")
    };
    let _daemons = Kill(vec![
        quiet(Command::new("nfacctd").arg("-f").arg(&their_conf)),
        quiet(Command::new(BIN).arg("nfacctd").arg("-f").arg(&our_conf)),
    ]);
    let theirs = settled(|| output(Command::new("pmacct").arg("-s").arg("-p").arg(&their_pipe)));
    let ours = settled(|| output(Command::new(BIN).args(["query", "-s", "-p"]).arg(&our_pipe)));
    assert!(theirs.len() > 100, "pmacct printed {} lines", theirs.len());
    let missing: Vec<&String> = theirs.difference(&ours).collect();
    let extra: Vec<&String> = ours.difference(&theirs).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
    // The custom columns are there, with values.
    let header = ours.iter().find(|l| l.starts_with("DST_PORT")).expect("header");
    for name in ["src4", "sport", "proto_x", "smac"] {
        assert!(header.contains(name), "{header}");
    }
}
