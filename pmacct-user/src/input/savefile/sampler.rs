//! pmacctd's packet sampling (`plugin_hooks.c`: `evaluate_sampling`, `take_simple_random_skip`).
//!
//! pmacctd samples by skip counts: after each sampled packet it draws how many packets to skip
//! next, uniformly in `1..=2N-1` (mean N), and takes the packet that brings the count to zero.
//! nfacctd uses a fixed skip of N (systematic). Only packets pmacctd accounts (IP, parsed)
//! advance the counter.

/// How the skip between sampled packets is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplingMethod {
    /// pmacctd: uniform skip in `1..=2N-1`, from a deterministic generator with this seed.
    Random { seed: u64 },
    /// Every N-th packet.
    Systematic,
}

/// 1:N sampler state.
#[derive(Clone, Debug)]
pub struct Sampler {
    rate: u64,
    method: SamplingMethod,
    counter: u64,
    rng: u64,
}

impl Sampler {
    /// A sampler taking on average 1 packet out of `rate` (0 or 1: every packet).
    pub fn new(rate: u32, method: SamplingMethod) -> Self {
        let rng = match method {
            SamplingMethod::Random { seed } => seed,
            SamplingMethod::Systematic => 0,
        };
        Self { rate: u64::from(rate), method, counter: 0, rng }
    }

    /// Whether sampling is active at all.
    pub fn is_active(&self) -> bool {
        self.rate > 1
    }

    /// pmacct's `evaluate_sampling` for an entry of `packets` packets and `bytes` bytes: returns
    /// the sampled `(packets, bytes)`, or `None` if nothing was sampled. For one packet that is
    /// either `(1, bytes)` or `None`.
    pub fn evaluate(&mut self, packets: u64, bytes: u64) -> Option<(u64, u64)> {
        if !self.is_active() {
            return Some((packets, bytes));
        }
        let mut left = packets;
        let mut sampled = 0u64;
        loop {
            if self.counter == 0 {
                self.counter = self.skip();
            }
            let delta = self.counter.min(left);
            self.counter -= delta;
            left -= delta;
            if self.counter == 0 {
                sampled += 1;
                if left > 0 {
                    continue;
                }
            }
            break;
        }
        match sampled {
            0 => None,
            s if packets > 1 => Some((s, bytes / packets * s)),
            s => Some((s, bytes)),
        }
    }

    fn skip(&mut self) -> u64 {
        match self.method {
            SamplingMethod::Systematic => self.rate,
            SamplingMethod::Random { .. } => self.next_random() % (2 * self.rate - 1) + 1,
        }
    }

    /// splitmix64.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
