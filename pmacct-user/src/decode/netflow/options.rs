//! Options data: the sampling information exporters announce (v9 34/35/48/49/50, IPFIX
//! 34/35/302–306, 309/310), kept per (exporter, domain) as a sampler id → rate table.

use super::fields::{Slot, View};

/// Sampler id used for sampling announced without a sampler id (ALU, IPFIX global).
pub const DEFAULT_SAMPLER: u64 = 0;

/// The `(sampler id, rate)` an options data record announces, if any.
pub fn sampler_announcement(v: &View<'_>) -> Option<(u64, u32)> {
    let id =
        v.uint(Slot::SAMPLER_ID).or_else(|| v.uint(Slot::SELECTOR_ID)).unwrap_or(DEFAULT_SAMPLER);
    let rate = if let Some(i) =
        v.uint(Slot::SAMPLING_INTERVAL).or_else(|| v.uint(Slot::SAMPLER_INTERVAL))
    {
        i
    } else if let (Some(i), Some(s)) =
        (v.uint(Slot::SAMPLING_PKT_INTERVAL), v.uint(Slot::SAMPLING_PKT_SPACE))
    {
        // Systematic count-based sampling: `interval` selected out of `interval + space`.
        i.saturating_add(s).checked_div(i).unwrap_or(0)
    } else if let (Some(size), Some(pop)) =
        (v.uint(Slot::SAMPLING_SIZE), v.uint(Slot::SAMPLING_POPULATION))
    {
        pop.checked_div(size).unwrap_or(0)
    } else {
        return None;
    };
    let rate = rate.min(u64::from(u32::MAX)) as u32;
    (rate > 0).then_some((id, rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::netflow::template::{FieldSpec, Template};

    fn view_of<'a>(t: &'a Template, data: &'a [u8]) -> View<'a> {
        View { data, tpl: t, locs: &t.fixed.as_ref().unwrap().0 }
    }

    #[test]
    fn sampler_tables() {
        let t = Template::new(
            vec![FieldSpec { id: 48, pen: 0, len: 1 }, FieldSpec { id: 34, pen: 0, len: 4 }],
            1,
            true,
        );
        assert_eq!(sampler_announcement(&view_of(&t, &[3, 0, 0, 0, 100])), Some((3, 100)));
        let t = Template::new(
            vec![FieldSpec { id: 305, pen: 0, len: 4 }, FieldSpec { id: 306, pen: 0, len: 4 }],
            1,
            true,
        );
        assert_eq!(sampler_announcement(&view_of(&t, &[0, 0, 0, 1, 0, 0, 0, 9])), Some((0, 10)));
        assert_eq!(sampler_announcement(&view_of(&t, &[0, 0, 0, 0, 0, 0, 0, 9])), None);
    }
}
