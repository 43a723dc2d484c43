//! The Hodges-Lehmann location of per-block log-ratios, with the Wilcoxon signed-rank test
//! and its distribution-free confidence interval.
//!
//! # How it works
//!
//! 1. The inputs are the per-block log-ratios `d_i = ln(head_i / base_i)` (see
//!    [`super::paired_t`] for why blocks are the units). The `M = n (n + 1) / 2` Walsh
//!    averages `(d_i + d_j) / 2`, `i <= j`, are formed and sorted; the estimate is their
//!    median (Hodges & Lehmann 1963). Unlike the mean, a block that fell into a slow mode on
//!    one side moves it by one rank, not by its size.
//! 2. The test of "centre 0" is Wilcoxon's signed-rank test (Wilcoxon 1945). Values with
//!    `|d| < 1e-12` are zeros and are dropped before ranking (Wilcoxon's convention, R's
//!    `wilcox.test` default): a block with no difference carries no sign. The rest are ranked
//!    by `|d|`, ties (within `1e-12`) get mid-ranks, and `W+` is the sum of the ranks of the
//!    positive values.
//! 3. Without ties and with at most [`EXACT_MAX_N`] nonzero values, the null distribution of
//!    `W+` is counted exactly: the number of subsets of ranks `{1..n}` summing to `w`, by
//!    dynamic programming over the ranks (as `f64`: exact up to 2^53, relatively exact
//!    beyond). Otherwise the normal approximation with mean `n (n + 1) / 4`, the
//!    tie-corrected variance `n (n + 1) (2n + 1) / 24 - sum(t^3 - t) / 48` and a continuity
//!    correction of 1/2. Either way `p = min(1, 2 min(P(W+ <= w), P(W+ >= w)))`.
//! 4. The interval inverts the same test (Bauer 1972; Hollander, Wolfe & Chicken,
//!    *Nonparametric Statistical Methods*, 3rd ed., 3.3): with the largest `k` such that
//!    `P(W+ <= k - 1) <= (1 - confidence) / 2` under the null for all `n` values (exact for
//!    `n <= 50`, normal-approximate beyond), the interval is `[A_(k), A_(M + 1 - k)]` of the
//!    sorted Walsh averages (1-based), and its confidence is `1 - 2 P(W+ <= k - 1)`, which is
//!    at least the requested one (the distribution is discrete). Zeros are kept here: they are
//!    data on the location, only the test of 0 drops them.
//! 5. When no `k >= 1` qualifies (`n <= 5` at 95%: even `P(W+ <= 0) = 2^-n` is too
//!    large), the interval is the full range `[A_(1), A_(M)]` and the confidence reported
//!    is that range's, `1 - 2^(1 - n)`, *below* the requested one.
//! 6. Degenerate data (every `d_i` equal, as with a deterministic metric) mirror
//!    [`super::paired_t`]: the estimate and the interval are that point, with confidence 1;
//!    the p-value is 1 when the point is 0 and 0 otherwise.
//!
//! The Walsh averages cost `O(n^2 log n)` time and `O(n^2)` memory, fine for block counts
//! (hundreds), not for raw samples.

use statrs::distribution::{ContinuousCDF, Normal};

/// Differences below this (on the log scale, ~1e-12 relative) are rounding, not noise.
const DEGENERATE: f64 = 1e-12;

/// Largest number of (nonzero, untied) values for which the exact null distribution is used;
/// beyond it the counts leave `f64`'s exact range and the normal approximation is accurate.
pub const EXACT_MAX_N: usize = 50;

/// The Hodges-Lehmann estimate of the per-block log-ratios, with its signed-rank interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HodgesLehmann {
    /// Blocks (log-ratios) used, zeros included.
    pub n: usize,
    /// Median of the Walsh averages, on the log scale.
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided, uncorrected.
    pub p_value: f64,
    /// The confidence actually achieved by the interval (>= the requested one, discrete).
    pub achieved_confidence: f64,
}

/// The Hodges-Lehmann estimate of `d` with its signed-rank interval at `confidence` and the
/// two-sided signed-rank p-value of "centre 0" (see the module docs). `None` with fewer than
/// two values, a non-finite value, or a `confidence` not strictly between 0 and 1.
pub fn hodges_lehmann(d: &[f64], confidence: f64) -> Option<HodgesLehmann> {
    let n = d.len();
    if n < 2 || d.iter().any(|v| !v.is_finite()) || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let (min, max) = d
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if max - min <= DEGENERATE {
        let point = if d[0].abs() <= DEGENERATE { 0.0 } else { d[0] };
        return Some(HodgesLehmann {
            n,
            estimate: point,
            ci_low: point,
            ci_high: point,
            p_value: if point == 0.0 { 1.0 } else { 0.0 },
            achieved_confidence: 1.0,
        });
    }
    let walsh = sorted_walsh_averages(d);
    let interval = interval(&walsh, n, confidence);
    Some(HodgesLehmann {
        n,
        estimate: median_of_sorted(&walsh),
        ci_low: interval.low,
        ci_high: interval.high,
        p_value: signed_rank_p_value(d),
        achieved_confidence: interval.confidence,
    })
}

/// The smallest two-sided exact p-value the signed-rank test can give with `n` untied
/// nonzero values, `2 / 2^n` (every block on the same side), capped at 1.
///
/// It matters with Holm's correction: over ~100 gated pairs the first step compares the
/// smallest p with `0.05 / 100 = 5e-4`, and `2 / 2^n <= 5e-4` needs `n >= 12` blocks
/// before anything at all can be confirmed, and then only when every block agrees. Hence
/// the rule of thumb of ~17 blocks: with `n = 17` the p-value still reaches `5e-4` when
/// blocks of total rank up to 8 (a few of the smallest differences) point the other way.
pub fn minimum_p_value(n: usize) -> f64 {
    // Beyond ~1075 halvings the power underflows to 0, which is the right limit.
    let halvings = i32::try_from(n).unwrap_or(i32::MAX).min(2000);
    (2.0 * 0.5_f64.powi(halvings)).min(1.0)
}

/// All `n (n + 1) / 2` Walsh averages `(d_i + d_j) / 2`, `i <= j`, sorted.
fn sorted_walsh_averages(d: &[f64]) -> Vec<f64> {
    let mut walsh = Vec::with_capacity(d.len() * (d.len() + 1) / 2);
    for (i, &a) in d.iter().enumerate() {
        walsh.extend(d[i..].iter().map(|&b| (a + b) / 2.0));
    }
    walsh.sort_by(f64::total_cmp);
    walsh
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let m = sorted.len();
    (sorted[(m - 1) / 2] + sorted[m / 2]) / 2.0
}

/// `W+` of the nonzero values of `d`, with what the p-value needs to know about ties.
#[derive(Debug)]
struct SignedRanks {
    /// Nonzero values ranked.
    n: usize,
    w_plus: f64,
    /// `sum(t^3 - t)` over groups of `t` tied `|d|`.
    tie_term: f64,
}

fn signed_ranks(d: &[f64]) -> SignedRanks {
    let mut nonzero: Vec<f64> = d
        .iter()
        .copied()
        .filter(|v| v.abs() >= DEGENERATE)
        .collect();
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let (mut w_plus, mut tie_term, mut start) = (0.0, 0.0, 0);
    while start < nonzero.len() {
        let first = nonzero[start].abs();
        let mut end = start + 1;
        // Log-ratios computed two ways can differ in the last bits; that is still a tie.
        while end < nonzero.len() && nonzero[end].abs() - first <= DEGENERATE {
            end += 1;
        }
        // Ranks start..end (0-based) share the average 1-based rank.
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let positives = nonzero[start..end].iter().filter(|v| **v > 0.0).count();
        w_plus += mid_rank * positives as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    SignedRanks {
        n: nonzero.len(),
        w_plus,
        tie_term,
    }
}

/// The two one-sided null probabilities at the observed `W+`.
#[derive(Debug, Clone, Copy)]
struct Tails {
    at_most: f64,
    at_least: f64,
}

impl Tails {
    fn two_sided(self) -> f64 {
        (2.0 * self.at_most.min(self.at_least)).min(1.0)
    }
}

fn signed_rank_p_value(d: &[f64]) -> f64 {
    let ranks = signed_ranks(d);
    if ranks.n == 0 {
        return 1.0;
    }
    let tails = if ranks.tie_term == 0.0 && ranks.n <= EXACT_MAX_N {
        // Without ties every rank is an integer, so W+ is one.
        exact_tails(ranks.n, ranks.w_plus.round() as usize)
    } else {
        normal_tails(ranks.n, ranks.w_plus, ranks.tie_term)
    };
    tails.two_sided()
}

/// `counts[w]` = the number of subsets of the ranks `{1..n}` that sum to `w`, i.e. of sign
/// assignments with `W+ = w`; they add up to `2^n`.
fn null_counts(n: usize) -> Vec<f64> {
    let max_w = n * (n + 1) / 2;
    let mut counts = vec![0.0; max_w + 1];
    counts[0] = 1.0;
    for rank in 1..=n {
        // Each subset either leaves `rank` out or adds it; downwards so it is added once.
        for w in (rank..=rank * (rank + 1) / 2).rev() {
            counts[w] += counts[w - rank];
        }
    }
    counts
}

fn exact_tails(n: usize, w: usize) -> Tails {
    let counts = null_counts(n);
    let total: f64 = counts.iter().sum();
    let w = w.min(counts.len() - 1);
    Tails {
        at_most: counts[..=w].iter().sum::<f64>() / total,
        at_least: counts[w..].iter().sum::<f64>() / total,
    }
}

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal is valid")
}

fn null_mean(n: usize) -> f64 {
    (n * (n + 1)) as f64 / 4.0
}

fn untied_variance(n: usize) -> f64 {
    (n * (n + 1) * (2 * n + 1)) as f64 / 24.0
}

fn normal_tails(n: usize, w: f64, tie_term: f64) -> Tails {
    let sd = (untied_variance(n) - tie_term / 48.0).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        // Unreachable for n >= 1 (all tied still has variance), but no spread means no evidence.
        return Tails {
            at_most: 1.0,
            at_least: 1.0,
        };
    }
    let normal = standard_normal();
    let mean = null_mean(n);
    Tails {
        at_most: normal.cdf((w + 0.5 - mean) / sd),
        at_least: normal.sf((w - 0.5 - mean) / sd),
    }
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    low: f64,
    high: f64,
    confidence: f64,
}

/// The order-statistic interval of the sorted Walsh averages of `n` values (module docs, 4-5).
fn interval(walsh: &[f64], n: usize, confidence: f64) -> Interval {
    let tail = (1.0 - confidence) / 2.0;
    let critical = if n <= EXACT_MAX_N {
        exact_critical(n, tail)
    } else {
        normal_critical(n, tail)
    };
    let m = walsh.len();
    // P(W+ <= k - 1) <= tail < 1/2 already puts k below the middle; this only guards it.
    let k = critical.k.min(m.div_ceil(2));
    Interval {
        low: walsh[k - 1],
        high: walsh[m - k],
        confidence: critical.confidence,
    }
}

/// The critical rank `k >= 1` (1 also when none qualifies: the full range) and the
/// coverage `1 - 2 P(W+ <= k - 1)` of `[A_(k), A_(M + 1 - k)]`.
#[derive(Debug, Clone, Copy)]
struct Critical {
    k: usize,
    confidence: f64,
}

fn exact_critical(n: usize, tail: f64) -> Critical {
    let counts = null_counts(n);
    let total: f64 = counts.iter().sum();
    let cdf: Vec<f64> = counts
        .iter()
        .scan(0.0, |acc, c| {
            *acc += c;
            Some(*acc / total)
        })
        .collect();
    // The CDF increases, so the qualifying `k - 1` are a prefix `0..k`.
    let k = cdf.partition_point(|&p| p <= tail).max(1);
    Critical {
        k,
        confidence: 1.0 - 2.0 * cdf[k - 1],
    }
}

fn normal_critical(n: usize, tail: f64) -> Critical {
    let (mean, sd) = (null_mean(n), untied_variance(n).sqrt());
    let normal = standard_normal();
    // P(W+ <= k - 1) ~ Phi((k - 1/2 - mean) / sd) <= tail  <=>  k <= mean + z sd + 1/2.
    let bound = mean + normal.inverse_cdf(tail) * sd + 0.5;
    let k = if bound >= 1.0 {
        bound.floor() as usize
    } else {
        1
    };
    Critical {
        k,
        confidence: (1.0 - 2.0 * normal.cdf((k as f64 - 0.5 - mean) / sd)).clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{ContinuousCDF as _, Normal};

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// A normal deviate by inverse-CDF sampling, as the comparison tests do (no rand_distr).
    fn normal(rng: &mut ChaCha8Rng, sd: f64) -> f64 {
        let u: f64 = rng.random_range(1e-12..1.0 - 1e-12);
        Normal::new(0.0, sd).unwrap().inverse_cdf(u)
    }

    /// Block log-ratio noise: 80% N(0, 0.03); 20% a block where one side fell into a slow
    /// mode, ±0.5 with a random sign (plus the ordinary noise when `jitter`).
    fn bimodal_noise(rng: &mut ChaCha8Rng, jitter: bool) -> f64 {
        if rng.random_bool(0.2) {
            let slow = if rng.random_bool(0.5) { 0.5 } else { -0.5 };
            slow + if jitter { normal(rng, 0.03) } else { 0.0 }
        } else {
            normal(rng, 0.03)
        }
    }

    /// Two-sided p by enumerating all 2^n sign assignments of ranks 1..n (no ties).
    fn brute_force_p(d: &[f64]) -> f64 {
        let mut by_size: Vec<f64> = d.to_vec();
        by_size.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
        let observed: usize = (0..d.len())
            .filter(|&i| by_size[i] > 0.0)
            .map(|i| i + 1)
            .sum();
        let (mut at_most, mut at_least) = (0_u32, 0_u32);
        for signs in 0..1_u32 << d.len() {
            let w: usize = (0..d.len())
                .filter(|i| signs >> i & 1 == 1)
                .map(|i| i + 1)
                .sum();
            at_most += u32::from(w <= observed);
            at_least += u32::from(w >= observed);
        }
        (2.0 * f64::from(at_most.min(at_least)) / f64::from(1_u32 << d.len())).min(1.0)
    }

    #[test]
    fn one_to_five_by_hand() {
        // 15 Walsh averages of 1..5, median 3; W+ = 15 is the largest of 2^5 assignments:
        // p = 2/32. At 95% even k = 1 fails (1/32 > 0.025): full range, 1 - 2/32 = 0.9375.
        let e = hodges_lehmann(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert_eq!((e.n, e.estimate), (5, 3.0));
        assert!(close(e.p_value, 0.0625, 1e-15), "{}", e.p_value);
        assert_eq!((e.ci_low, e.ci_high), (1.0, 5.0));
        assert!(close(e.achieved_confidence, 0.9375, 1e-15));
    }

    #[test]
    fn one_to_six_at_ninety_percent_by_hand() {
        // W+ null CDF for n = 6 (x 64): 1, 2, 3, 5, ... so at 90% (tail 0.05) k - 1 = 2,
        // k = 3. Sorted Walsh averages: 1, 1.5, 2, 2, 2.5, 2.5, 3, 3, 3, 3.5 x3, 4 x3,
        // 4.5, 4.5, 5, 5, 5.5, 6: A(3) = 2, A(19) = 5, median A(11) = 3.5, 1 - 6/64.
        let e = hodges_lehmann(&[6.0, 2.0, 4.0, 1.0, 5.0, 3.0], 0.90).unwrap();
        assert_eq!((e.estimate, e.ci_low, e.ci_high), (3.5, 2.0, 5.0));
        assert!(close(e.achieved_confidence, 1.0 - 6.0 / 64.0, 1e-15));
    }

    #[test]
    fn r_wilcox_test_paired_example() {
        // R's ?wilcox.test (Hollander & Wolfe, depression scale): paired x - y gives V = 40,
        // one-sided p-value 0.01953 (= 10/512), so two-sided 0.0390625.
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        #[allow(clippy::approx_constant, reason = "3.14 is R's data, not pi")]
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        assert_eq!(signed_ranks(&d).w_plus, 40.0);
        let e = hodges_lehmann(&d, 0.95).unwrap();
        assert!(close(e.p_value, 20.0 / 512.0, 1e-15), "{}", e.p_value);
        assert!(e.ci_low <= e.estimate && e.estimate <= e.ci_high);
    }

    #[test]
    fn exact_p_matches_brute_force_enumeration() {
        let d = [
            0.31, -0.12, 0.05, 0.44, -0.27, 0.19, 0.08, -0.02, 0.36, 0.15,
        ];
        let e = hodges_lehmann(&d, 0.95).unwrap();
        let expected = brute_force_p(&d);
        assert!(
            close(e.p_value, expected, 1e-15),
            "{} vs {expected}",
            e.p_value
        );
        assert_eq!(null_counts(10).iter().sum::<f64>(), 1024.0);
    }

    #[test]
    fn exact_and_normal_paths_agree_at_n_40() {
        let mut rng = ChaCha8Rng::seed_from_u64(40);
        let mut worst: f64 = 0.0;
        for shift in [0.0, 0.1, 0.2, 0.3, 0.5] {
            let d: Vec<f64> = (0..40).map(|_| shift + normal(&mut rng, 1.0)).collect();
            let r = signed_ranks(&d);
            assert_eq!(r.tie_term, 0.0);
            let exact = exact_tails(40, r.w_plus as usize).two_sided();
            let approximate = normal_tails(40, r.w_plus, 0.0).two_sided();
            worst = worst.max((exact - approximate).abs());
        }
        println!("n = 40: largest |exact p - normal p| = {worst:.5}");
        assert!(worst < 0.01, "largest |exact - normal| = {worst}");
    }

    #[test]
    fn zeros_are_dropped_and_ties_use_the_normal_path() {
        // Zeros dropped: [0, 0, 1, 2, 3] tests like [1, 2, 3]: W+ = 6 of 8 assignments, p = 2/8.
        let e = hodges_lehmann(&[0.0, 0.0, 1.0, 2.0, 3.0], 0.95).unwrap();
        assert!(close(e.p_value, 0.25, 1e-15), "{}", e.p_value);
        // |d| = 1, 1, 2 (ties): mid-ranks 1.5, 1.5, 3, W+ = 4.5, mean 3, variance
        // 3.5 - 6/48 = 3.375: p = 2 (1 - Phi((4.5 - 0.5 - 3) / sqrt(3.375))).
        let e = hodges_lehmann(&[1.0, -1.0, 2.0], 0.95).unwrap();
        let z = 1.0 / 3.375_f64.sqrt();
        let expected = 2.0 * (1.0 - Normal::new(0.0, 1.0).unwrap().cdf(z));
        assert!(
            close(e.p_value, expected, 1e-12),
            "{} vs {expected}",
            e.p_value
        );
    }

    #[test]
    fn degenerate_too_small_and_non_finite_inputs() {
        assert_eq!(hodges_lehmann(&[0.3], 0.95), None);
        assert_eq!(hodges_lehmann(&[0.3, f64::NAN], 0.95), None);
        assert_eq!(hodges_lehmann(&[0.3, f64::INFINITY], 0.95), None);
        let zero = hodges_lehmann(&[0.0; 5], 0.95).unwrap();
        assert_eq!(
            (zero.estimate, zero.ci_low, zero.ci_high, zero.p_value),
            (0.0, 0.0, 0.0, 1.0)
        );
        let shifted = hodges_lehmann(&[0.2; 5], 0.95).unwrap();
        assert_eq!(
            (shifted.ci_low, shifted.ci_high, shifted.p_value),
            (0.2, 0.2, 0.0)
        );
    }

    #[test]
    fn large_n_uses_the_normal_interval() {
        // n = 200 evenly spaced: symmetric about 0, so the interval is too, and it is
        // close to the requested confidence.
        let d: Vec<f64> = (0..200).map(|i| f64::from(i) - 99.5).collect();
        let e = hodges_lehmann(&d, 0.95).unwrap();
        assert!(close(e.estimate, 0.0, 1e-12) && close(e.ci_low, -e.ci_high, 1e-12));
        assert!(
            (0.95..0.951).contains(&e.achieved_confidence),
            "{}",
            e.achieved_confidence
        );
    }

    #[test]
    fn minimum_p_value_and_the_holm_threshold() {
        assert_eq!(minimum_p_value(5), 0.0625);
        assert_eq!(minimum_p_value(0), 1.0);
        assert_eq!(minimum_p_value(100_000), 0.0);
        let first = (1..64).find(|&n| minimum_p_value(n) <= 0.05 / 100.0);
        assert_eq!(first, Some(12));
        // And it is what the test really gives when every block agrees.
        let d: Vec<f64> = (1..=12).map(f64::from).collect();
        assert_eq!(
            hodges_lehmann(&d, 0.95).unwrap().p_value,
            minimum_p_value(12)
        );
    }

    #[test]
    fn covers_a_known_shift_on_bimodal_blocks() {
        let (reps, delta) = (2000, 0.05);
        for jitter in [false, true] {
            let mut rng = ChaCha8Rng::seed_from_u64(2000 + u64::from(jitter));
            let (mut covered, mut hl_errors, mut mean_errors) = (0, Vec::new(), Vec::new());
            for _ in 0..reps {
                let d: Vec<f64> = (0..20)
                    .map(|_| delta + bimodal_noise(&mut rng, jitter))
                    .collect();
                let e = hodges_lehmann(&d, 0.95).unwrap();
                covered += usize::from(e.ci_low <= delta && delta <= e.ci_high);
                hl_errors.push((e.estimate - delta).abs());
                mean_errors.push((d.iter().sum::<f64>() / 20.0 - delta).abs());
            }
            let rate = covered as f64 / reps as f64;
            assert!(rate >= 0.93, "coverage {rate} (jitter {jitter})");
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                median_of_sorted(v)
            };
            let (hl, mean) = (median(&mut hl_errors), median(&mut mean_errors));
            assert!(
                hl < mean / 2.0,
                "median |error|: HL {hl}, mean {mean} (jitter {jitter})"
            );
            println!("jitter {jitter}: coverage {rate}, median |error| HL {hl:.4} mean {mean:.4}");
        }
    }

    #[test]
    fn a_a_false_alarms_stay_near_the_level() {
        let reps = 2000;
        for jitter in [false, true] {
            let mut rng = ChaCha8Rng::seed_from_u64(7000 + u64::from(jitter));
            let alarms = (0..reps)
                .filter(|_| {
                    let d: Vec<f64> = (0..20).map(|_| bimodal_noise(&mut rng, jitter)).collect();
                    hodges_lehmann(&d, 0.95).unwrap().p_value <= 0.05
                })
                .count();
            let rate = alarms as f64 / reps as f64;
            assert!(
                (0.02..=0.07).contains(&rate),
                "A/A rate {rate} (jitter {jitter})"
            );
            println!("jitter {jitter}: A/A rate of p <= 0.05: {rate}");
        }
    }
}
