//! The on-disk part of a sink's queue: one file per item, named by a sequence number so a
//! directory listing gives the order; written to a temp name, synced, then renamed (and the
//! directory synced), so a crash or power loss leaves either a whole item or none.
//!
//! File layout: `rows` (u64 LE), `meta` length (u32 LE), `meta`, then the payload.

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::Item;

/// Items spilled to `dir`, oldest first.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: VecDeque<(u64, PathBuf, u64)>,
    next: u64,
    bytes: u64,
}

fn parse(bytes: &[u8]) -> Option<Item> {
    let rows = u64::from_le_bytes(bytes.get(0..8)?.try_into().ok()?);
    let meta_len = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize;
    let meta = String::from_utf8(bytes.get(12..12 + meta_len)?.to_vec()).ok()?;
    let payload = bytes.get(12 + meta_len..)?.to_vec();
    Some(Item { rows, meta, payload })
}

impl Spool {
    /// Opens (creating) `dir` and lists the items a previous run left there.
    pub fn open(dir: &Path) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(seq) = name.strip_suffix(".item").and_then(|s| s.parse::<u64>().ok()) {
                files.push((seq, e.path(), e.metadata()?.len()));
            } else if name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path()); // a write cut short by a crash
            }
        }
        files.sort();
        let next = files.last().map_or(0, |f| f.0 + 1);
        let bytes = files.iter().map(|f| f.2).sum();
        Ok(Spool { dir: dir.to_path_buf(), files: files.into(), next, bytes })
    }

    /// Items on disk.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when nothing is spooled.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends an item (newest).
    pub fn push(&mut self, item: &Item) -> io::Result<()> {
        let seq = self.next;
        let path = self.dir.join(format!("{seq:020}.item"));
        let tmp = self.dir.join(format!("{seq:020}.tmp"));
        let mut data = Vec::with_capacity(12 + item.meta.len() + item.payload.len());
        data.extend_from_slice(&item.rows.to_le_bytes());
        data.extend_from_slice(&(item.meta.len() as u32).to_le_bytes());
        data.extend_from_slice(item.meta.as_bytes());
        data.extend_from_slice(&item.payload);
        {
            // Durable before it is visible: a crash leaves the whole item or none.
            let mut f = fs::File::create(&tmp)?;
            io::Write::write_all(&mut f, &data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all(); // the rename itself
        }
        self.next += 1;
        self.bytes += data.len() as u64;
        self.files.push_back((seq, path, data.len() as u64));
        Ok(())
    }

    /// The oldest item, read back (`None` when empty; an unreadable file is dropped and
    /// reported as `Err` with its rows unknown).
    pub fn front(&self) -> Option<io::Result<Item>> {
        let (_, path, _) = self.files.front()?;
        Some(fs::read(path).and_then(|b| {
            parse(&b)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "corrupt spool item"))
        }))
    }

    /// Removes the oldest item.
    pub fn pop(&mut self) {
        if let Some((_, path, len)) = self.files.pop_front() {
            let _ = fs::remove_file(path);
            self.bytes = self.bytes.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_restart_in_order_and_drops_torn_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path()).unwrap();
        for i in 0..3u64 {
            s.push(&Item { rows: i, meta: format!("m{i}"), payload: vec![i as u8; 10] }).unwrap();
        }
        std::fs::write(dir.path().join("00000000000000000009.tmp"), b"torn").unwrap();
        let bytes = s.bytes();
        drop(s);
        let mut s = Spool::open(dir.path()).unwrap();
        assert_eq!((s.len(), s.bytes()), (3, bytes));
        assert!(!dir.path().join("00000000000000000009.tmp").exists());
        for i in 0..3u64 {
            let item = s.front().unwrap().unwrap();
            assert_eq!((item.rows, item.meta.as_str()), (i, format!("m{i}").as_str()));
            s.pop();
        }
        assert!(s.is_empty() && s.bytes() == 0);
        s.push(&Item { rows: 7, meta: String::new(), payload: vec![] }).unwrap();
        assert!(dir.path().join("00000000000000000003.item").exists(), "numbering goes on");
    }
}
