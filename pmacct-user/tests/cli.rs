//! The `pmacct-rs` command line: check-config on good and bad files (native and pmacct syntax).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pmacct-rs");

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn check(file: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("check-config").arg(file).args(extra).output().expect("run")
}

#[test]
fn shipped_configs_are_valid() {
    let out = check(&repo("deploy/pmacct-rs.toml"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(": OK") && text.contains("[[plugin]]"), "{text}");
    let out = check(&repo("deploy/examples/pmacctd.conf"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bad_configs_name_the_key_and_value() {
    let dir = tempfile::tempdir().expect("tmp");
    let native = dir.path().join("bad.toml");
    std::fs::write(
        &native,
        "[[plugin]]\nname = \"p\"\ntype = \"print\"\naggregate = [\"src_host\", \"src_nett\"]\n",
    )
    .expect("write");
    let out = check(&native, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin[p].aggregate") && err.contains("src_nett"), "{err}");

    let pmacct = dir.path().join("bad.conf");
    std::fs::write(&pmacct, "plugins: print[p]\naggregate[p]: src_host, bogus_primitive\n")
        .expect("write");
    let out = check(&pmacct, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aggregate") && err.contains("bogus_primitive") && err.contains("bad.conf:2:"),
        "{err}"
    );

    let typed = dir.path().join("typed.toml");
    std::fs::write(&typed, "[daemon]\ndrain_interval_ms = \"soon\"\n").expect("write");
    let out = check(&typed, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("daemon.drain_interval_ms") && err.contains("soon"), "{err}");
}

/// `convert-config` turns an operator's nfacctd.conf into native TOML that loads into the very
/// same config, and lists what is accepted without effect as comments.
#[test]
fn convert_config_round_trips_an_nfacctd_conf() {
    use pmacct_user::config::{self, pmacct::Flavor, pmacct::read_pmacct_as};
    let dir = tempfile::tempdir().expect("tmp");
    let conf = dir.path().join("nfacctd.conf");
    std::fs::write(
        &conf,
        "! an nfacctd config as operators write them\n\
         daemonize: true\n\
         nfacctd_ip: 127.0.0.1\nnfacctd_port: 2055\nnfacctd_time_new: true\n\
         nfacctd_pipe_size: 8388608\n\
         plugins: print[by_host], memory[top]\n\
         aggregate[by_host]: src_host, dst_host\n\
         aggregate_filter[by_host]: tcp and not port 22\n\
         print_output[by_host]: csv\nprint_output_file[by_host]: /tmp/by_host-%Y%m%d.csv\n\
         print_refresh_time[by_host]: 300\nprint_history[by_host]: 5m\n\
         aggregate[top]: src_host, dst_host, src_port, dst_port, proto\n\
         imt_path[top]: /tmp/top.pipe\n\
         plugin_pipe_size: 10240000\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["convert-config", "--flavor", "nfacctd"])
        .arg(&conf)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let toml = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(toml.lines().any(|l| l.starts_with('#') && l.contains("daemonize")), "{toml}");
    assert!(toml.lines().any(|l| l.starts_with('#') && l.contains("plugin_pipe_size")), "{toml}");
    let native = dir.path().join("nfacctd.toml");
    std::fs::write(&native, &toml).expect("write toml");
    let from_toml = config::load(Some(&native), &[]).expect("the converted TOML loads");
    let (from_conf, _) = read_pmacct_as(&conf, Flavor::Nfacctd).expect("the conf reads");
    assert_eq!(from_toml, from_conf, "{toml}");
    assert_eq!(from_toml.collectors[0].listen, vec!["127.0.0.1:2055".to_string()]);
    assert_eq!(from_toml.collectors[0].recv_buffer_bytes, 8_388_608);
    let out = check(&native, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A pmacct config that does not ask for the Prometheus endpoint runs without it when its
/// default address is taken (nfacctd and sfacctd drop-ins side by side); one that asks fails,
/// naming the key.
#[test]
fn metrics_port_taken() {
    let dir = tempfile::tempdir().expect("tmp");
    let holder = std::net::TcpListener::bind("127.0.0.1:9464").ok(); // taken either way
    let pcap =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/exports/softflowd_v5.pcap");
    if !pcap.exists() {
        eprintln!("shared data absent: skipped");
        return;
    }
    let conf = dir.path().join("nfacctd.conf");
    let out_csv = dir.path().join("out.csv");
    let base = format!(
        "pcap_savefile: {}\npcap_savefile_wait: false\nplugins: print[p]\naggregate: src_host\n\
         print_output[p]: csv\nprint_output_file[p]: {}\n",
        pcap.display(),
        out_csv.display()
    );
    std::fs::write(&conf, &base).expect("conf");
    let out = Command::new(BIN).args(["nfacctd", "-f"]).arg(&conf).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(out_csv.exists(), "the job ran");
    if holder.is_some() {
        assert!(err.contains("Prometheus endpoint not started"), "{err}");
    }
    std::fs::write(&conf, format!("{base}metrics_listen: 127.0.0.1:9464\n")).expect("conf");
    let out = Command::new(BIN).args(["nfacctd", "-f"]).arg(&conf).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("daemon.metrics_listen") && err.contains("127.0.0.1:9464"), "{err}");
}
