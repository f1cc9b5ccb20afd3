//! SplitMix64: a tiny generator whose output depends only on integer arithmetic, so the same seed
//! gives the same records on every platform and with every compiler.
//!
//! Every record draws from a generator seeded by [`record_seed`] from the task seed and the
//! record's iteration, so record `n` of a task is the same whether the task ran from the start or
//! resumed at `n`.

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective mix of all 64 bits.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one task: distinct tasks of one connector draw unrelated sequences.
pub fn task_seed(seed: u64, task_id: u32) -> u64 {
    mix64(seed ^ u64::from(task_id).wrapping_mul(GOLDEN))
}

/// The seed of the record at `iteration` of a task.
pub fn record_seed(task_seed: u64, iteration: u64) -> u64 {
    task_seed ^ mix64(iteration.wrapping_add(GOLDEN))
}

#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// A number in `0..bound` (`bound > 0`), by multiply-and-shift: the bias is below 2^-32 for
    /// the small bounds used here, and there is no division.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = high.abs_diff(low) + 1;
        low.wrapping_add(self.below(span) as i64)
    }

    /// A float in `[0, 1)` with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_sequence() {
        // The widely published test vector: the first outputs of SplitMix64 seeded with 1234567.
        let mut rng = SplitMix64::new(1234567);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn bounded_draws_stay_in_range_and_reach_both_ends() {
        let mut rng = SplitMix64::new(7);
        let draws: Vec<i64> = (0..10_000).map(|_| rng.between(1, 9)).collect();
        assert!(draws.iter().all(|d| (1..=9).contains(d)));
        assert!(draws.contains(&1) && draws.contains(&9));
        let units: Vec<f64> = (0..10_000).map(|_| rng.unit_f64()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
    }

    #[test]
    fn record_seeds_differ_between_iterations_and_tasks() {
        let a = task_seed(42, 0);
        let b = task_seed(42, 1);
        assert_ne!(a, b);
        assert_ne!(record_seed(a, 0), record_seed(a, 1));
        assert_ne!(record_seed(a, 5), record_seed(b, 5));
    }
}
