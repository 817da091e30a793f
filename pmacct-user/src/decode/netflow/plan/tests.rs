//! The compiled path against the generic one (`fields::record`) on random fixed templates.

use std::net::IpAddr;

use super::super::fields::{self, HeaderCtx, RecordSampling, View};
use super::super::template::{FieldSpec, Template};

/// Every element id the decoder knows, plus a few it does not.
const IDS: &[u16] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 21, 22, 23, 24, 27, 28, 29, 30,
    34, 35, 44, 45, 47, 48, 49, 50, 56, 57, 58, 59, 60, 61, 62, 63, 70, 71, 72, 73, 74, 75, 76, 77,
    78, 79, 80, 81, 85, 86, 89, 140, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 180,
    181, 182, 183, 225, 226, 227, 228, 230, 243, 252, 253, 254, 281, 282, 302, 305, 306, 309, 310,
    323, 352, 40001, 40002, 40003, 40004, 40005, 100, 999,
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sampling_eq(a: &RecordSampling, b: &RecordSampling) -> bool {
    match (a, b) {
        (RecordSampling::Interval(x), RecordSampling::Interval(y)) => x == y,
        (RecordSampling::SamplerId(x), RecordSampling::SamplerId(y)) => x == y,
        (RecordSampling::None, RecordSampling::None) => true,
        _ => false,
    }
}

fn random_template(rng: &mut Rng) -> Template {
    let n = 1 + rng.below(24) as usize;
    let fields = (0..n)
        .map(|_| {
            let id = IDS[rng.below(IDS.len() as u64) as usize];
            let len = match rng.below(10) {
                0 => 0,
                1 => 1 + rng.below(20) as u16,
                2 => 3,
                3 => 8,
                4 => 16,
                5 => 1,
                6 => 2,
                _ => 4,
            };
            let pen = if rng.below(30) == 0 { 9 } else { 0 };
            FieldSpec { id, pen, len }
        })
        .collect();
    Template::new(fields, 0, false)
}

fn random_data(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| match rng.below(6) {
            0 => 0,
            1 => 1,
            2 => 4,
            3 => 6,
            4 => 0xff,
            _ => rng.next() as u8,
        })
        .collect()
}

#[test]
fn compiled_records_equal_generic_ones() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let exporter: IpAddr = "192.0.2.7".parse().unwrap();
    let mut compiled = 0;
    for _ in 0..4000 {
        let tpl = random_template(&mut rng);
        let Some((locs, len)) = &tpl.fixed else { unreachable!("no varlen fields") };
        let Some(plan) = &tpl.plan else {
            assert_eq!(*len, 0, "every non-empty fixed data template compiles");
            continue;
        };
        compiled += 1;
        assert_eq!(plan.len, *len);
        for _ in 0..8 {
            let data = random_data(&mut rng, *len);
            let view = View { data: &data, tpl: &tpl, locs };
            for version in [9u16, 10] {
                let h = HeaderCtx {
                    version,
                    sys_uptime_ms: rng.next() as u32,
                    unix_secs: 1_700_000_000 + rng.below(1000) as u32,
                    sequence: 5,
                    domain: 7,
                };
                for time_new in [false, true] {
                    let want = fields::record(&view, &h, exporter, 1234, time_new);
                    let got = plan.record(&data, &h, exporter, 1234, time_new);
                    assert_eq!(got, want, "template {:?} data {data:?}", tpl.fields);
                }
            }
            assert!(sampling_eq(&plan.sampling(&data), &fields::record_sampling(&view)));
        }
    }
    assert!(compiled > 3000);
}

#[test]
fn options_and_varlen_templates_are_not_compiled() {
    let f = |id, len| FieldSpec { id, pen: 0, len };
    assert!(Template::new(vec![f(8, 4), f(2, 0xffff)], 0, false).plan.is_none());
    assert!(Template::new(vec![f(48, 1), f(34, 4)], 1, true).plan.is_none());
    assert!(Template::new(vec![f(8, 4), f(2, 4)], 0, false).plan.is_some());
}
