//! print plugin: `csv`, `json`, `formatted` to stdout or to files named by a strftime template,
//! byte-compatible with pmacct 1.7.7's print plugin.
//!
//! pmacct details followed (src/print_plugin.c, v1.7.7):
//! - stdout: the CSV/formatted header is written once, before the first non-empty purge;
//! - files: the name is `print_output_file` run through strftime with the entry's bin start
//!   (pmacct's `basetime`); entries of different bins that map to different names go to
//!   different files. Without history pmacct's basetime is 0 (the epoch); we use the flush time
//!   instead, which is what an operator expects from `%Y%m%d-%H%M`;
//! - files are overwritten per purge (`print_output_file_append: false` default) with the header
//!   rewritten; in append mode the header is written only when the file is new;
//! - an empty purge writes nothing (`print_write_empty_file: false` default);
//! - CSV and formatted carry no time stamps in 1.7; JSON adds `stamp_inserted`/`stamp_updated`
//!   (local time `%Y-%m-%d %H:%M:%S` by default) when history is set.
//!
//! Overwrites go through a temporary file in the same directory and a rename, so readers never
//! see a half-written file.

pub mod columns;
pub mod csv;
pub mod formatted;
pub mod geo;
pub mod json;
pub mod value;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};

use super::{Sink, SinkError, WriteReport};
use crate::aggregate::FlushBatch;
use crate::config::{PluginConfig, PrintFormat};
pub use value::TimestampFormat;

/// print options pmacct has and [`PluginConfig`] does not carry (yet); defaults are pmacct's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintOptions {
    /// `timestamps_utc` / `timestamps_since_epoch`.
    pub timestamps: TimestampFormat,
    /// `print_output_file_append` (default false: overwrite per purge).
    pub append: bool,
    /// `print_write_empty_file` (default false).
    pub write_empty_file: bool,
    /// `print_output_separator` (default `,`).
    pub separator: String,
    /// `print_markers`: start/end lines (CSV, formatted) or purge_init/purge_close objects
    /// (JSON) around each purge.
    pub markers: bool,
    /// `print_latest_file`: symlink pointing at the newest output file.
    pub latest_file: Option<PathBuf>,
    /// `event_csv` / `event_formatted`: no counter columns.
    pub event: bool,
    /// `*_stitching`: `timestamp_min` / `timestamp_max` columns.
    pub stitching: bool,
    /// The plugin's custom primitives (registry indices, `aggregate` order).
    pub custom: Vec<usize>,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            timestamps: TimestampFormat::default(),
            append: false,
            write_empty_file: false,
            separator: ",".into(),
            markers: false,
            latest_file: None,
            event: false,
            stitching: false,
            custom: Vec::new(),
        }
    }
}

impl PrintOptions {
    /// The options a plugin's config asks for.
    pub fn from_config(cfg: &PluginConfig) -> PrintOptions {
        let k = &cfg.print;
        let separator = match k.separator.as_deref() {
            None => ",".to_string(),
            Some("\\t") => "\t".to_string(),
            Some("\\s") => " ".to_string(),
            Some(s) => s.to_string(),
        };
        PrintOptions {
            timestamps: TimestampFormat {
                utc: k.timestamps_utc,
                since_epoch: k.timestamps_since_epoch,
                secs: k.timestamps_secs,
            },
            append: k.append,
            separator,
            markers: k.markers,
            latest_file: k.latest_file.clone(),
            event: k.event,
            stitching: cfg.stitching,
            custom: cfg
                .aggregate
                .iter()
                .filter(|n| crate::aggregate::Primitive::from_name(n.trim()).is_none())
                .filter_map(|n| crate::aggregate::custom::lookup(n.trim()))
                .collect(),
            ..PrintOptions::default()
        }
    }
}

/// Renders pmacct's `print_output_file` template: strftime conversions `%Y %m %d %H %M %S %j
/// %s %%` against `t` (local time unless `utc`); other text is kept as is.
pub fn render_path(template: &str, t: i64, utc: bool) -> String {
    let naive = if utc {
        DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default().naive_utc()
    } else {
        Local.timestamp_opt(t, 0).earliest().map(|d| d.naive_local()).unwrap_or_default()
    };
    let mut out = String::with_capacity(template.len() + 8);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", naive.year())),
            Some('m') => out.push_str(&format!("{:02}", naive.month())),
            Some('d') => out.push_str(&format!("{:02}", naive.day())),
            Some('H') => out.push_str(&format!("{:02}", naive.hour())),
            Some('M') => out.push_str(&format!("{:02}", naive.minute())),
            Some('S') => out.push_str(&format!("{:02}", naive.second())),
            Some('j') => out.push_str(&format!("{:03}", naive.ordinal())),
            Some('s') => out.push_str(&t.to_string()),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

/// The print sink of one plugin.
pub struct PrintSink {
    format: PrintFormat,
    /// Plugin name (pmacct's writer id in JSON markers).
    name: String,
    output_file: Option<String>,
    opts: PrintOptions,
    /// Where stdout output goes (replaceable for tests).
    stdout: Box<dyn Write + Send>,
    stdout_header_done: bool,
}

impl PrintSink {
    /// A print sink for `cfg` writing to stdout or `cfg.output_file`.
    pub fn new(cfg: &PluginConfig, opts: PrintOptions) -> Self {
        Self::with_writer(cfg, opts, Box::new(io::stdout()))
    }

    /// Like [`PrintSink::new`] with stdout output sent to `writer` instead.
    pub fn with_writer(
        cfg: &PluginConfig,
        opts: PrintOptions,
        writer: Box<dyn Write + Send>,
    ) -> Self {
        PrintSink {
            format: cfg.output,
            name: cfg.name.clone(),
            output_file: cfg.output_file.clone(),
            opts,
            stdout: writer,
            stdout_header_done: false,
        }
    }

    fn columns(&self, batch: &FlushBatch) -> columns::Columns {
        columns::Columns::new(batch.primitives, self.opts.stitching).with_custom(&self.opts.custom)
    }

    fn header(&self, batch: &FlushBatch) -> Option<String> {
        let cols = self.columns(batch);
        match self.format {
            PrintFormat::Csv if self.opts.event => {
                Some(csv::event_header(&cols, &self.opts.separator))
            }
            PrintFormat::Formatted if self.opts.event => Some(formatted::event_header(&cols)),
            PrintFormat::Csv => Some(csv::header(&cols, &self.opts.separator)),
            PrintFormat::Formatted => Some(formatted::header(&cols)),
            PrintFormat::Json => None,
        }
    }

    /// pmacct's start marker (`--START (pid)--` or a `purge_init` object).
    fn start_marker(&self, out: &mut String) {
        if !self.opts.markers {
            return;
        }
        let pid = std::process::id();
        match self.format {
            PrintFormat::Json => out.push_str(&format!(
                "{{\"event_type\": \"purge_init\", \"writer_id\": \"{}/{pid}\"}}\n",
                self.name
            )),
            _ => out.push_str(&format!("--START ({pid})--\n")),
        }
    }

    /// pmacct's end marker (`--END (pid)--` or a `purge_close` object with the entry counts).
    fn end_marker(&self, out: &mut String, purged: usize, total: usize) {
        if !self.opts.markers {
            return;
        }
        let pid = std::process::id();
        match self.format {
            PrintFormat::Json => out.push_str(&format!(
                "{{\"event_type\": \"purge_close\", \"writer_id\": \"{}/{pid}\", \"purged_entries\": {purged}, \"total_entries\": {total}, \"duration\": 0}}\n",
                self.name
            )),
            _ => out.push_str(&format!("--END ({pid})--\n")),
        }
    }

    /// Renders the rows of the bins selected by `take` into `out`.
    fn render_rows(
        &self,
        batch: &FlushBatch,
        take: &dyn Fn(i64) -> bool,
        out: &mut String,
    ) -> usize {
        let mut n = 0;
        let cols = self.columns(batch);
        for bin in batch.bins.iter().filter(|b| take(b.start)) {
            let stamps = batch.history.then_some((bin.start, batch.flushed_at));
            let ts = self.opts.timestamps;
            bin.entries.for_each(|k, c| {
                match self.format {
                    PrintFormat::Csv if self.opts.event => {
                        csv::event_row(out, &cols, k, c, &self.opts.separator, ts)
                    }
                    PrintFormat::Formatted if self.opts.event => {
                        formatted::event_row(out, &cols, k, c, ts)
                    }
                    PrintFormat::Csv => csv::row(out, &cols, k, c, &self.opts.separator, ts),
                    PrintFormat::Formatted => formatted::row(out, &cols, k, c, ts),
                    PrintFormat::Json => json::row_cols(out, &cols, k, c, stamps, ts),
                }
                n += 1;
            });
        }
        n
    }

    /// Renders the whole batch as it would be printed (header per the stdout rule).
    pub fn render(&mut self, batch: &FlushBatch) -> String {
        let mut out = String::with_capacity(text_capacity(batch.len()));
        self.start_marker(&mut out);
        if !self.stdout_header_done
            && let Some(h) = self.header(batch)
        {
            out.push_str(&h);
        }
        let n = self.render_rows(batch, &|_| true, &mut out);
        self.end_marker(&mut out, n, batch.len());
        out
    }

    fn write_stdout(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError> {
        if batch.is_empty() {
            return Ok(WriteReport::default());
        }
        let text = self.render(batch);
        self.stdout_header_done = true;
        let io_err = |source| SinkError::Io { path: "<stdout>".into(), source };
        self.stdout.write_all(text.as_bytes()).map_err(io_err)?;
        self.stdout.flush().map_err(io_err)?;
        Ok(WriteReport { entries: batch.len(), bytes: text.len() as u64, files: Vec::new() })
    }

    fn write_files(
        &mut self,
        template: &str,
        batch: &FlushBatch,
    ) -> Result<WriteReport, SinkError> {
        let utc = self.opts.timestamps.utc;
        let stamp_of =
            |start: i64| if batch.history && start != 0 { start } else { batch.flushed_at };
        // Group bins by the file they render to, keeping bin order.
        let mut files: Vec<(String, Vec<i64>)> = Vec::new();
        for bin in &batch.bins {
            let name = render_path(template, stamp_of(bin.start), utc);
            match files.iter_mut().find(|(n, _)| *n == name) {
                Some((_, starts)) => starts.push(bin.start),
                None => files.push((name, vec![bin.start])),
            }
        }
        if files.is_empty() {
            if !self.opts.write_empty_file {
                return Ok(WriteReport::default());
            }
            files.push((render_path(template, batch.flushed_at, utc), Vec::new()));
        }
        let mut report = WriteReport::default();
        for (name, starts) in files {
            let path = PathBuf::from(&name);
            let new_file = !path.exists();
            // Sized once for the whole purge: growing a multi-megabyte string by doubling
            // copies it and faults in every intermediate buffer.
            let mut text = String::with_capacity(text_capacity(batch.len()));
            self.start_marker(&mut text);
            if (!self.opts.append || new_file)
                && let Some(h) = self.header(batch)
            {
                text.push_str(&h);
            }
            let n = self.render_rows(batch, &|s| starts.contains(&s), &mut text);
            self.end_marker(&mut text, n, batch.len());
            report.entries += n;
            report.bytes += text.len() as u64;
            if self.opts.append {
                append_file(&path, text.as_bytes())?;
            } else {
                replace_file(&path, text.as_bytes())?;
            }
            report.files.push(path);
        }
        if let Some(latest) = &self.opts.latest_file
            && let Some(newest) = report.files.iter().max()
        {
            link_latest(latest, newest)?;
        }
        Ok(report)
    }
}

/// Bytes to reserve for the text of `rows` rows (a 5-tuple CSV row is ~40–60 bytes).
fn text_capacity(rows: usize) -> usize {
    rows.saturating_mul(64).saturating_add(256)
}

/// pmacct's `link_latest_output_file`: point `link` at `target` unless it already points at a
/// file modified later.
fn link_latest(link: &Path, target: &Path) -> Result<(), SinkError> {
    create_parent(link)?;
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if let Ok(current) = fs::read_link(link)
        && mtime(&current) > mtime(target)
    {
        return Ok(());
    }
    match fs::remove_file(link) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(link)(e)),
    }
    std::os::unix::fs::symlink(target, link).map_err(io_error(link))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SinkError + '_ {
    move |source| SinkError::Io { path: path.display().to_string(), source }
}

fn create_parent(path: &Path) -> Result<(), SinkError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::create_dir_all(dir).map_err(io_error(dir)),
        _ => Ok(()),
    }
}

/// Writes `data` to a temporary file beside `path` and renames it over `path`.
fn replace_file(path: &Path, data: &[u8]) -> Result<(), SinkError> {
    create_parent(path)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_error(path))
}

fn append_file(path: &Path, data: &[u8]) -> Result<(), SinkError> {
    create_parent(path)?;
    let mut f = OpenOptions::new().create(true).append(true).open(path).map_err(io_error(path))?;
    f.write_all(data).map_err(io_error(path))
}

impl Sink for PrintSink {
    fn write(&mut self, batch: &FlushBatch) -> Result<WriteReport, SinkError> {
        match self.output_file.clone() {
            Some(t) => self.write_files(&t, batch),
            None => self.write_stdout(batch),
        }
    }
}

#[cfg(test)]
mod tests;
