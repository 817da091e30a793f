//! `pmacct-rs`: the daemon and its tools.

fn main() -> anyhow::Result<()> {
    Ok(())
}
