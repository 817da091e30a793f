//! `pre_tag_filter`, `pre_tag2_filter` and `pre_tag_label_filter` (pmacct 1.7.7 `util.c`
//! `load_tags` / `evaluate_tags`, `load_labels` / `evaluate_labels`).

/// One `N`, `A-B`, `-N` or `-A-B` item.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TagItem {
    neg: bool,
    lo: u64,
    hi: u64,
}

/// A parsed `pre_tag_filter` / `pre_tag2_filter`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagFilter(Vec<TagItem>);

/// A tag filter value pmacct would refuse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid tag filter item `{0}` (expected N, A-B, -N or -A-B with A < B)")]
pub struct TagFilterError(pub String);

impl TagFilter {
    /// Parses `1,5-10,-6`.
    pub fn parse(s: &str) -> Result<TagFilter, TagFilterError> {
        let mut items = Vec::new();
        for tok in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let bad = || TagFilterError(tok.to_string());
            let (neg, body) = match tok.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, tok),
            };
            let (lo, hi) = match body.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                    if b <= a {
                        return Err(bad());
                    }
                    (a, b)
                }
                None => {
                    let v = body.parse().map_err(|_| bad())?;
                    (v, v)
                }
            };
            items.push(TagItem { neg, lo, hi });
        }
        Ok(TagFilter(items))
    }

    /// True when `tag` is let in. pmacct's evaluation order: the first item in range decides
    /// (in, or out if negated); before that, any negated item not in range lets it in.
    pub fn accepts(&self, tag: u64) -> bool {
        if self.0.is_empty() {
            return true;
        }
        for it in &self.0 {
            if it.lo <= tag && tag <= it.hi {
                return !it.neg;
            } else if it.neg {
                return true;
            }
        }
        false
    }
}

/// A parsed `pre_tag_label_filter`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelFilter(Vec<(bool, String)>);

impl LabelFilter {
    /// Parses `a,-b,null`.
    pub fn parse(s: &str) -> LabelFilter {
        LabelFilter(
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| match t.strip_prefix('-') {
                    Some(b) => (true, b.to_string()),
                    None => (false, t.to_string()),
                })
                .collect(),
        )
    }

    /// True when `label` is let in; an empty label is pmacct's `null`. Items compare as
    /// prefixes (pmacct compares the item's length only).
    pub fn accepts(&self, label: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let label = if label.is_empty() { "null" } else { label };
        for (neg, v) in &self.0 {
            if label.starts_with(v.as_str()) {
                return !neg;
            } else if *neg {
                return true;
            }
        }
        false
    }
}

/// A plugin's pre-tagging: its map (if any) and the filters on the result.
#[derive(Clone, Debug)]
pub struct PretagStage {
    map: Option<std::sync::Arc<super::pretag::PreTagMap>>,
    tag: Option<TagFilter>,
    tag2: Option<TagFilter>,
    label: Option<LabelFilter>,
    /// `post_tag` / `post_tag2`: set after the filters, over the map's values.
    post_tag: Option<u64>,
    post_tag2: Option<u64>,
}

impl PretagStage {
    /// Builds the stage; `None` when the plugin has no map and no filter.
    pub fn new(cfg: &crate::config::PretagConfig) -> Result<Option<PretagStage>, String> {
        if *cfg == crate::config::PretagConfig::default() {
            return Ok(None);
        }
        let map = match &cfg.map {
            Some(p) => Some(std::sync::Arc::new(
                super::pretag::PreTagMap::load(p).map_err(|e| e.to_string())?,
            )),
            None => None,
        };
        let tf = |s: &Option<String>, key: &str| {
            s.as_deref().map(TagFilter::parse).transpose().map_err(|e| format!("{key}: {e}"))
        };
        Ok(Some(PretagStage {
            map,
            tag: tf(&cfg.tag_filter, "pre_tag_filter")?,
            tag2: tf(&cfg.tag2_filter, "pre_tag2_filter")?,
            label: cfg.label_filter.as_deref().map(LabelFilter::parse),
            post_tag: cfg.post_tag,
            post_tag2: cfg.post_tag2,
        }))
    }

    /// Sets tag, tag2 and label from the map; false when a filter keeps the record out. Then
    /// `post_tag` / `post_tag2` override the tags (pmacct's post-tagging, in the plugin).
    pub fn apply(&self, f: &mut crate::record::FlowFields) -> bool {
        let mut label = String::new();
        if let Some(m) = &self.map {
            let t = m.eval(f);
            f.tag = t.tag;
            f.tag2 = t.tag2;
            f.label = super::labels::intern(&t.label);
            label = t.label;
        } else if f.label != 0 {
            label = super::labels::name(f.label).to_string();
        }
        let pass = self.tag.as_ref().is_none_or(|t| t.accepts(f.tag))
            && self.tag2.as_ref().is_none_or(|t| t.accepts(f.tag2))
            && self.label.as_ref().is_none_or(|l| l.accepts(&label));
        if let Some(t) = self.post_tag {
            f.tag = t;
        }
        if let Some(t) = self.post_tag2 {
            f.tag2 = t;
        }
        pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let f = TagFilter::parse("0, 10-20").unwrap();
        assert!(f.accepts(0) && f.accepts(15) && !f.accepts(5));
        let f = TagFilter::parse("-6").unwrap();
        assert!(!f.accepts(6) && f.accepts(7));
        assert!(TagFilter::parse("").unwrap().accepts(9));
        assert!(TagFilter::parse("20-10").is_err() && TagFilter::parse("x").is_err());
    }

    #[test]
    fn labels() {
        let f = LabelFilter::parse("null,blue");
        assert!(f.accepts("") && f.accepts("blue") && f.accepts("blue2") && !f.accepts("red"));
        let f = LabelFilter::parse("-red");
        assert!(!f.accepts("red") && f.accepts(""));
    }
}
