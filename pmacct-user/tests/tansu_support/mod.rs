//! A private Kafka broker for a test: `tansu` (a Kafka-protocol broker in Rust; `cargo xtask
//! setup` installs it) listening on a free port of 127.0.0.1, its storage a SQLite file in a
//! temp dir (`sqlite://tansu.db`, relative to its working dir), so what it acknowledged survives
//! [`Tansu::kill`] (SIGKILL, a crash) and [`Tansu::resume`] (same port, same file). Topics are
//! created through the admin API; [`Tansu::freeze`] hangs it (SIGSTOP); [`Tansu::consume`] reads every partition of a topic from the
//! start up to its high watermark with an rdkafka consumer. Killed when dropped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

pub struct Tansu {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// One message as stored.
#[derive(Clone, Debug)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub key: Option<String>,
    pub payload: String,
}

/// The `tansu` binary: on PATH or in `~/.cargo/bin`.
pub fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).map(|d| d.join("tansu")).collect::<Vec<_>>());
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu"));
    on_path.chain(home).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("tansu missing: `cargo xtask setup` installs it (cargo install tansu)")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Tansu {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Tansu {
        let mut t =
            Tansu { child: None, port: free_port(), dir: tempfile::tempdir().expect("tempdir") };
        t.resume();
        t
    }

    /// `127.0.0.1:<port>` (librdkafka's `bootstrap.servers`).
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker (again) on the same port and storage; waits until its port accepts
    /// connections.
    pub fn resume(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = |name: &str| std::fs::File::create(self.dir.path().join(name)).expect("log");
        let child = Command::new(binary())
            .current_dir(self.dir.path())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .env_remove("STORAGE_ENGINE")
            .stdin(Stdio::null())
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .expect("start tansu");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(Child::try_wait) {
                panic!("tansu exited with {st}:\n{}", self.output());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "tansu not listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (a crash, not a shutdown); the storage file stays.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            // SAFETY: kill(2) on our child; a frozen broker dies of SIGKILL too, this is tidiness.
            unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
            let _ = c.wait();
        }
    }

    /// SIGSTOP: the port still accepts connections (the kernel's backlog), nothing answers,
    /// as a hung broker or a black-holed link.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`Tansu::freeze`].
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on our child, the broker.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    /// The broker's output (for failure messages).
    pub fn output(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        read("stdout") + &read("stderr")
    }

    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.bootstrap());
        c
    }

    /// Creates `topics` with `partitions` each (an existing one is fine).
    pub fn create_topics(&self, topics: &[&str], partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.client().create().expect("admin");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let res = rt.block_on(admin.create_topics(&new, &opts)).expect("create_topics");
        for r in res {
            if let Err((t, e)) = r {
                assert!(
                    e == rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                    "create topic {t}: {e}\n{}",
                    self.output()
                );
            }
        }
    }

    /// Every message of `topic` (partitions `0..partitions`), from the start to the high
    /// watermark read when the call begins.
    pub fn consume(&self, topic: &str, partitions: i32) -> Vec<Record> {
        let consumer: BaseConsumer = self
            .client()
            .set("group.id", "pmacct-rs-test")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        let mut left = 0i64;
        for p in 0..partitions {
            let (lo, hi) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("watermarks {topic}/{p}: {e}\n{}", self.output()));
            left += hi - lo;
            tpl.add_partition_offset(topic, p, Offset::Beginning).expect("partition");
        }
        consumer.assign(&tpl).expect("assign");
        let mut out = Vec::new();
        let start = Instant::now();
        while (out.len() as i64) < left {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "read {} of {left} messages of {topic}",
                out.len()
            );
            let Some(m) = consumer.poll(Duration::from_millis(200)) else { continue };
            let m = m.unwrap_or_else(|e| panic!("consume {topic}: {e}"));
            out.push(Record {
                topic: m.topic().to_string(),
                partition: m.partition(),
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                payload: String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            });
        }
        out
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
    }
}
