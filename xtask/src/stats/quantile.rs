//! Sample quantiles, Hyndman & Fan (1996) type 7: linear interpolation between order
//! statistics, the default of R's `quantile()` and NumPy's `percentile()`.

/// The `p`-quantile (0 <= p <= 1) of an ascending, non-empty slice.
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    debug_assert!((0.0..=1.0).contains(&p));
    let h = (sorted.len() - 1) as f64 * p;
    let lower = h.floor() as usize;
    let upper = (lower + 1).min(sorted.len() - 1);
    sorted[lower] + (h - lower as f64) * (sorted[upper] - sorted[lower])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_r_type_7() {
        // R: quantile(c(1, 2, 3, 4, 10), c(0.25, 0.5, 0.75)) -> 2, 3, 4 (h = 1, 2, 3 exactly);
        // quantile(1:4, 0.25) = 1.75 (h = 0.75, 1 + 0.75 * (2 - 1)), worked by hand.
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile_type7(&x, 0.25), 2.0);
        assert_eq!(quantile_type7(&x, 0.5), 3.0);
        assert_eq!(quantile_type7(&x, 0.75), 4.0);
        assert_eq!(quantile_type7(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
        assert_eq!(quantile_type7(&[7.0], 0.9), 7.0);
        assert_eq!(quantile_type7(&x, 1.0), 10.0);
    }
}
