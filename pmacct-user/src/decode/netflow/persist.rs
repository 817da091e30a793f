//! `nfacctd_templates_file`: templates and sampler tables saved as JSON and reloaded at start,
//! so a restart does not drop data until the exporters refresh their templates.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::template::{FieldSpec, Template};
use super::{NetflowDecoder, NetflowError};

/// Why a templates file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesFileError {
    #[error("templates file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("templates file: unsupported format version {0}")]
    Version(u32),
    #[error("templates file: {0}")]
    Template(#[from] NetflowError),
}

#[derive(Serialize, Deserialize)]
struct SavedTemplate {
    exporter: IpAddr,
    version: u16,
    domain: u32,
    id: u16,
    options: bool,
    scope_fields: u16,
    fields: Vec<FieldSpec>,
}

#[derive(Serialize, Deserialize)]
struct SavedSampler {
    exporter: IpAddr,
    version: u16,
    domain: u32,
    sampler: u64,
    rate: u32,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    templates: Vec<SavedTemplate>,
    samplers: Vec<SavedSampler>,
}

const FORMAT: u32 = 1;

pub fn save(d: &NetflowDecoder) -> Vec<u8> {
    let mut f = File { format: FORMAT, templates: Vec::new(), samplers: Vec::new() };
    for (ip, e) in &d.exporters {
        for ((version, domain), dom) in &e.domains {
            for (id, t) in &dom.templates {
                f.templates.push(SavedTemplate {
                    exporter: *ip,
                    version: *version,
                    domain: *domain,
                    id: *id,
                    options: t.is_options,
                    scope_fields: t.scope_fields,
                    fields: t.fields.clone(),
                });
            }
            for (sampler, rate) in &dom.samplers {
                f.samplers.push(SavedSampler {
                    exporter: *ip,
                    version: *version,
                    domain: *domain,
                    sampler: *sampler,
                    rate: *rate,
                });
            }
        }
    }
    f.templates.sort_by_key(|t| (t.exporter, t.version, t.domain, t.id));
    f.samplers.sort_by_key(|s| (s.exporter, s.version, s.domain, s.sampler));
    serde_json::to_vec_pretty(&f).unwrap_or_default()
}

pub fn load(d: &mut NetflowDecoder, data: &[u8]) -> Result<usize, TemplatesFileError> {
    let f: File = serde_json::from_slice(data)?;
    if f.format != FORMAT {
        return Err(TemplatesFileError::Version(f.format));
    }
    let mut n = 0;
    for t in f.templates {
        if t.fields.len() > d.opts.max_fields_per_template || t.id < 256 {
            continue;
        }
        if !d.exporters.contains_key(&t.exporter) && d.exporters.len() >= d.opts.max_exporters {
            continue;
        }
        let e = d.exporters.entry(t.exporter).or_default();
        let count = e.template_count();
        let dom = e.domains.entry((t.version, t.domain)).or_default();
        if !dom.templates.contains_key(&t.id) && count >= d.opts.max_templates_per_exporter {
            continue;
        }
        dom.templates.insert(t.id, Arc::new(Template::new(t.fields, t.scope_fields, t.options)));
        n += 1;
    }
    for s in f.samplers {
        if let Some(e) = d.exporters.get_mut(&s.exporter) {
            e.domains.entry((s.version, s.domain)).or_default().samplers.insert(s.sampler, s.rate);
        }
    }
    Ok(n)
}
