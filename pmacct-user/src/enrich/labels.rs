//! Process-wide interning of `set_label` strings, so a record's label is a fixed-size id and
//! keys stay `Copy` and hashable. Id 0 is "no label" (printed as an empty string, as pmacct does).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

#[derive(Default)]
struct Interner {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

fn interner() -> &'static RwLock<Interner> {
    static I: OnceLock<RwLock<Interner>> = OnceLock::new();
    I.get_or_init(|| RwLock::new(Interner { ids: HashMap::new(), names: vec![Arc::from("")] }))
}

/// The id of `label` (0 for the empty string).
pub fn intern(label: &str) -> u32 {
    if label.is_empty() {
        return 0;
    }
    if let Ok(r) = interner().read()
        && let Some(&id) = r.ids.get(label)
    {
        return id;
    }
    let mut w = interner().write().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = w.ids.get(label) {
        return id;
    }
    let id = u32::try_from(w.names.len()).unwrap_or(u32::MAX);
    let s: Arc<str> = Arc::from(label);
    w.names.push(s.clone());
    w.ids.insert(s, id);
    id
}

/// The label of `id` (empty for 0 or an unknown id).
pub fn name(id: u32) -> Arc<str> {
    let r = interner().read().unwrap_or_else(|e| e.into_inner());
    r.names.get(id as usize).cloned().unwrap_or_else(|| Arc::from(""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let a = super::intern("blabla");
        assert_eq!(super::intern("blabla"), a);
        assert_ne!(super::intern("other"), a);
        assert_eq!(&*super::name(a), "blabla");
        assert_eq!(super::intern(""), 0);
        assert_eq!(&*super::name(0), "");
    }
}
