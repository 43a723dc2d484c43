//! Mann-Whitney U test (Wilcoxon rank-sum), two-sided.
//!
//! # How it works
//!
//! 1. Pool both samples, rank them (ties get the average rank), `U1 = R1 - n1 (n1 + 1) / 2`.
//! 2. Exact p-value when there are no ties and both samples have at most
//!    [`EXACT_MAX_N`] values: the null distribution of U is counted exactly. The number of
//!    arrangements with `U = u` is the coefficient of `q^u` in the Gaussian binomial
//!    coefficient `[n1 + n2 choose n1]_q = prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i)`
//!    (Mann & Whitney 1947; the same counts as R's `dwilcox`). `p = min(1, 2 min(P(U <= u),
//!    P(U >= u)))`, as R's `wilcox.test(exact = TRUE)` and SciPy's `method="exact"`.
//! 3. Otherwise the normal approximation with tie correction and continuity correction:
//!    `sigma^2 = n1 n2 / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1)))`,
//!    `z = (|U1 - n1 n2 / 2| - 1/2) / sigma`, `p = min(1, 2 (1 - Phi(z)))`, as SciPy's
//!    `method="asymptotic"` and R's `wilcox.test(exact = FALSE, correct = TRUE)`. With every
//!    value tied (`sigma = 0`) there is no evidence of a difference and `p = 1`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::Samples;

/// Largest sample size (per side) for which the exact distribution is used.
pub const EXACT_MAX_N: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PValueMethod {
    Exact,
    NormalApproximation,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U statistic of the first sample: the number of pairs (x, y) with x > y, ties
    /// counting one half.
    pub u: f64,
    pub p_value: f64,
    pub method: PValueMethod,
}

/// Two-sided Mann-Whitney U test of `x` against `y`.
pub fn mann_whitney(x: &Samples, y: &Samples) -> MannWhitney {
    let (n1, n2) = (x.n(), y.n());
    let ranked = rank_pooled(x.values(), y.values());
    let u = ranked.rank_sum_first - (n1 * (n1 + 1)) as f64 / 2.0;
    if !ranked.has_ties && n1 <= EXACT_MAX_N && n2 <= EXACT_MAX_N {
        MannWhitney {
            u,
            p_value: exact_p_value(n1, n2, u.round() as usize),
            method: PValueMethod::Exact,
        }
    } else {
        MannWhitney {
            u,
            p_value: normal_p_value(n1, n2, u, ranked.tie_term),
            method: PValueMethod::NormalApproximation,
        }
    }
}

struct Ranked {
    rank_sum_first: f64,
    has_ties: bool,
    /// `sum(t^3 - t)` over groups of `t` tied values.
    tie_term: f64,
}

fn rank_pooled(x: &[f64], y: &[f64]) -> Ranked {
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_first = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < pooled.len() {
        let mut end = start + 1;
        while end < pooled.len() && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        // Ranks start..end (0-based) share the average 1-based rank.
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let firsts = pooled[start..end]
            .iter()
            .filter(|(_, first)| *first)
            .count();
        rank_sum_first += average_rank * firsts as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    Ranked {
        rank_sum_first,
        has_ties: tie_term > 0.0,
        tie_term,
    }
}

/// Counts of arrangements for each U in `0..=n1 n2` (coefficients of the Gaussian
/// binomial coefficient), as `f64` (exact below 2^53, relatively exact beyond).
fn u_distribution_counts(n1: usize, n2: usize) -> Vec<f64> {
    let max_u = n1 * n2;
    let mut poly = vec![0.0; max_u + 1];
    poly[0] = 1.0;
    for i in 1..=n1 {
        // Multiply by (1 - q^(n2 + i)).
        let shift = n2 + i;
        for k in (shift..=max_u).rev() {
            poly[k] -= poly[k - shift];
        }
        // Divide by (1 - q^i): the quotient's coefficients are running sums with stride i.
        for k in i..=max_u {
            poly[k] += poly[k - i];
        }
    }
    poly
}

fn exact_p_value(n1: usize, n2: usize, u: usize) -> f64 {
    let counts = u_distribution_counts(n1, n2);
    let total: f64 = counts.iter().sum();
    let at_most: f64 = counts[..=u].iter().sum();
    let at_least: f64 = counts[u..].iter().sum();
    (2.0 * at_most.min(at_least) / total).min(1.0)
}

fn normal_p_value(n1: usize, n2: usize, u: f64, tie_term: f64) -> f64 {
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let n = n1f + n2f;
    let variance = n1f * n2f / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1f * n2f / 2.0).abs() - 0.5) / variance.sqrt();
    let normal = Normal::new(0.0, 1.0).expect("standard normal is valid");
    (2.0 * normal.sf(z)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(v: &[f64]) -> Samples {
        Samples::new(v.to_vec()).unwrap()
    }

    #[test]
    fn counts_are_the_gaussian_binomial() {
        // [4 choose 2]_q = 1 + q + 2q^2 + q^3 + q^4 (worked by hand; sums to C(4,2) = 6).
        assert_eq!(u_distribution_counts(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        let c = u_distribution_counts(10, 10);
        assert_eq!(c.iter().sum::<f64>(), 184_756.0); // C(20, 10)
    }

    #[test]
    fn complete_separation_exact() {
        // All of y above x: p = 2 / C(n1 + n2, n1). n = 3 + 3: 2/20 = 0.1 (SciPy docs'
        // textbook case); n = 10 + 10: 2 / 184756.
        let r = mann_whitney(&samples(&[1.0, 2.0, 3.0]), &samples(&[4.0, 5.0, 6.0]));
        assert_eq!(r.u, 0.0);
        assert_eq!(r.method, PValueMethod::Exact);
        assert!((r.p_value - 0.1).abs() < 1e-12);
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = (10..20).map(f64::from).collect();
        let r = mann_whitney(&samples(&y), &samples(&x));
        assert_eq!(r.u, 100.0);
        assert!((r.p_value - 2.0 / 184_756.0).abs() < 1e-15);
    }

    #[test]
    fn r_wilcox_test_hollander_wolfe_example() {
        // R's ?wilcox.test example (Hollander & Wolfe 1973, p. 69): permeability constants.
        // wilcox.test(x, y, alternative = "g") gives W = 35, p-value = 0.1272; the two-sided
        // exact p-value is twice that; SciPy 1.17.1 `mannwhitneyu(x, y, method="exact")`
        // gives 0.2544122544122544.
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let r = mann_whitney(&samples(&x), &samples(&y));
        assert_eq!(r.u, 35.0);
        assert_eq!(r.method, PValueMethod::Exact);
        assert!(
            (r.p_value - 0.254_412_254_412_254_4).abs() < 1e-12,
            "{}",
            r.p_value
        );
    }

    #[test]
    fn ties_use_the_corrected_normal_approximation() {
        // x = 1 2 2 3, y = 2 3 3 4, worked by hand:
        // pooled ranks: 1 -> 1; 2,2,2 -> 3; 3,3,3 -> 6; 4 -> 8. R1 = 1 + 3 + 3 + 6 = 13,
        // U1 = 13 - 10 = 3. Ties: two groups of 3 -> sum(t^3 - t) = 48.
        // sigma^2 = 16/12 * (9 - 48/56) = 10.857142..., z = (|3 - 8| - 0.5) / 3.295017 = 1.365700
        // p = 2 * (1 - Phi(1.365700)) ~ 0.17203; SciPy 1.17.1
        // `mannwhitneyu(x, y, method="asymptotic")` gives 0.1720337089218229.
        let r = mann_whitney(
            &samples(&[1.0, 2.0, 2.0, 3.0]),
            &samples(&[2.0, 3.0, 3.0, 4.0]),
        );
        assert_eq!(r.u, 3.0);
        assert_eq!(r.method, PValueMethod::NormalApproximation);
        assert!(
            (r.p_value - 0.172_033_708_921_822_9).abs() < 1e-9,
            "{}",
            r.p_value
        );
    }

    #[test]
    fn all_tied_gives_p_one() {
        let r = mann_whitney(&samples(&[5.0, 5.0]), &samples(&[5.0, 5.0, 5.0]));
        assert_eq!(r.p_value, 1.0);
    }
}
