//! The process-wide registry of custom primitives and the interner of records' values.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use super::CustomPrimitive;

/// The process-wide registry: every primitive defined, in definition order (a record's
/// interned values follow this order).
fn registry() -> &'static RwLock<Arc<Vec<CustomPrimitive>>> {
    static R: OnceLock<RwLock<Arc<Vec<CustomPrimitive>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Adds `defs` to the registry (an entry of the same name is replaced in place) and returns
/// the registry index of each.
pub fn install(defs: &[CustomPrimitive]) -> Vec<usize> {
    let mut w = registry().write().unwrap_or_else(|e| e.into_inner());
    let mut v: Vec<CustomPrimitive> = (**w).clone();
    let idx = defs
        .iter()
        .map(|d| match v.iter().position(|p| p.name == d.name) {
            Some(i) => {
                v[i] = d.clone();
                i
            }
            None => {
                v.push(d.clone());
                v.len() - 1
            }
        })
        .collect();
    *w = Arc::new(v);
    idx
}

/// The registry as it is now.
pub fn defined() -> Arc<Vec<CustomPrimitive>> {
    registry().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The registry index of `name`.
pub fn lookup(name: &str) -> Option<usize> {
    defined().iter().position(|p| p.name.eq_ignore_ascii_case(name))
}

/// One record's values, in registry order (`None`: not in the record).
pub type Values = Arc<[Option<Box<[u8]>>]>;

#[derive(Default)]
struct Interner {
    ids: HashMap<Values, u32>,
    values: Vec<Values>,
}

fn interner() -> &'static RwLock<Interner> {
    static I: OnceLock<RwLock<Interner>> = OnceLock::new();
    I.get_or_init(|| {
        let empty: Values = Arc::from(Vec::new());
        RwLock::new(Interner { ids: HashMap::new(), values: vec![empty] })
    })
}

/// The id of `values`; 0 when none is set.
pub fn intern(values: Vec<Option<Box<[u8]>>>) -> u32 {
    if values.iter().all(Option::is_none) {
        return 0;
    }
    let v: Values = Arc::from(values);
    if let Ok(r) = interner().read()
        && let Some(&id) = r.ids.get(&v)
    {
        return id;
    }
    let mut w = interner().write().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = w.ids.get(&v) {
        return id;
    }
    let id = u32::try_from(w.values.len()).unwrap_or(u32::MAX);
    w.values.push(v.clone());
    w.ids.insert(v, id);
    id
}

/// The values of `id` (empty for 0 or an unknown id).
pub fn values(id: u32) -> Values {
    let r = interner().read().unwrap_or_else(|e| e.into_inner());
    r.values.get(id as usize).cloned().unwrap_or_else(|| Arc::from(Vec::new()))
}

/// The id of `id`'s values with only the registry entries in `keep` left (a plugin's key).
pub fn project(id: u32, keep: &[usize]) -> u32 {
    if id == 0 {
        return 0;
    }
    let v = values(id);
    if (0..v.len()).all(|i| keep.contains(&i) || v[i].is_none()) {
        return id;
    }
    intern(
        v.iter()
            .enumerate()
            .map(|(i, x)| if keep.contains(&i) { x.clone() } else { None })
            .collect(),
    )
}
