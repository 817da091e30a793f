//! A private RabbitMQ node for a test, beside the shared broker on 127.0.0.1:5672 (never
//! touched): Debian's `rabbitmq-server` 3.10 started from `/usr/lib/rabbitmq/bin` (not the
//! `/usr/sbin` wrapper, which would `su` to the rabbitmq user and use its cookie) with its own
//! node name, AMQP and distribution ports on 127.0.0.1, and data, logs, config, enabled plugins
//! (none) and Erlang cookie (`$HOME`) under a temp dir. `rabbitmqctl -n <node>` works with the
//! same environment ([`Rabbit::ctl`]). `RABBITMQ_ALLOW_INPUT` makes the script `exec` the VM, so
//! the child is `beam.smp` itself and [`Rabbit::kill`] is a real crash (SIGKILL); its stdin is a
//! pipe held open (the Erlang shell would stop the VM at end of input). Killed when dropped.
//!
//! Optional definitions (exchanges, queues, bindings) are imported at every boot, before the
//! listeners start, so a client that connects right after a restart finds them in place.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPTS: &str = "/usr/lib/rabbitmq/bin";

pub struct Rabbit {
    child: Option<(Child, ChildStdin)>,
    /// AMQP port on 127.0.0.1.
    pub port: u16,
    dist_port: u16,
    /// `pmtest<pid>_<n>@localhost`.
    pub node: String,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Rabbit {
    /// Starts a node and waits until it accepts AMQP; `definitions` (RabbitMQ's definitions
    /// JSON) are loaded at each boot.
    pub fn start(definitions: Option<&str>) -> Rabbit {
        assert!(
            Path::new(SCRIPTS).join("rabbitmq-server").exists(),
            "rabbitmq-server missing: `cargo xtask setup` installs Debian's rabbitmq-server"
        );
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let cookie = d.join(".erlang.cookie");
        std::fs::write(&cookie, format!("PMTESTCOOKIE{}X{n}", std::process::id())).expect("cookie");
        let mut perms = std::fs::metadata(&cookie).expect("cookie").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o400);
        std::fs::set_permissions(&cookie, perms).expect("cookie mode");
        std::fs::write(d.join("enabled_plugins"), "[].\n").expect("enabled_plugins");
        std::fs::write(d.join("rabbitmq-env.conf"), "").expect("env conf");
        let mut conf = String::from("loopback_users.guest = true\n");
        if let Some(defs) = definitions {
            std::fs::write(d.join("definitions.json"), defs).expect("definitions");
            conf += &format!("load_definitions = {}\n", d.join("definitions.json").display());
        }
        std::fs::write(d.join("rabbitmq.conf"), conf).expect("rabbitmq.conf");
        let mut r = Rabbit {
            child: None,
            port: free_port(),
            dist_port: free_port(),
            node: format!("pmtest{}_{n}@localhost", std::process::id()),
            dir,
        };
        r.resume();
        r
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The environment of the node and of `rabbitmqctl` for it.
    fn env(&self, cmd: &mut Command) {
        let d = self.dir.path();
        cmd.current_dir(d)
            .env("HOME", d)
            .env("RABBITMQ_CONF_ENV_FILE", d.join("rabbitmq-env.conf"))
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq.conf"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", d.join("advanced.config"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_PLUGINS_EXPAND_DIR", d.join("plugins-expand"))
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            );
    }

    /// `rabbitmqctl -n <node> <args>`: its stdout, or the failure with stderr.
    pub fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(Path::new(SCRIPTS).join("rabbitmqctl"));
        self.env(&mut cmd);
        let out = cmd.arg("-n").arg(&self.node).args(args).output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Kills the node with SIGKILL (a crash, not a shutdown); its data dir stays.
    pub fn kill(&mut self) {
        if let Some((mut c, stdin)) = self.child.take() {
            let _ = c.kill();
            // SAFETY: kill(2) on our child; a frozen node dies of SIGKILL too, this is tidiness.
            unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
            let _ = c.wait();
            drop(stdin);
        }
    }

    /// Stops the node with SIGSTOP: its ports still accept TCP connections (the kernel's
    /// backlog) but nothing answers, as a hung broker or a black-holed link.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`Rabbit::freeze`].
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: i32) {
        if let Some((c, _)) = &self.child {
            // SAFETY: kill(2) on our child, the node's beam.smp.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    /// Starts the node (again) on the same ports and data dir; waits until the broker runs
    /// and its AMQP port accepts connections.
    pub fn resume(&mut self) {
        let _ = std::fs::remove_file(self.path("pid")); // a stale one would fool `wait`
        let log = |name: &str| std::fs::File::create(self.path(name)).expect("log file");
        let mut cmd = Command::new(Path::new(SCRIPTS).join("rabbitmq-server"));
        self.env(&mut cmd);
        let mut child = cmd
            .env("RABBITMQ_ALLOW_INPUT", "1")
            .stdin(Stdio::piped())
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .expect("start rabbitmq-server");
        let stdin = child.stdin.take().expect("stdin pipe");
        self.child = Some((child, stdin));
        let pid = self.path("pid").display().to_string();
        if let Err(e) = self.ctl(&["wait", &pid, "--timeout", "60"]) {
            panic!("RabbitMQ node {} did not start: {e}\n{}", self.node, self.output());
        }
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "no AMQP on {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node's console output (for failure messages).
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.path("stdout")).unwrap_or_default()
            + &std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    /// `host:port` as the AMQP sink's `host` takes it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The URI for lapin, guest/guest on the default vhost.
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        self.kill();
    }
}
