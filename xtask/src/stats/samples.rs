//! `Samples`: a non-empty set of finite observations, the input of every statistic.

use thiserror::Error;

/// Why a set of observations cannot be `Samples`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SamplesError {
    #[error("no samples")]
    Empty,
    #[error("sample {index} is not a finite number ({value})")]
    NotFinite { index: usize, value: f64 },
}

/// Observations in the order they were taken (run order), never empty, never NaN or infinite.
///
/// The invariant is checked once, in [`Samples::new`], so every statistic can rely on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    in_run_order: Vec<f64>,
    ascending: Vec<f64>,
}

impl Samples {
    /// Checks the invariant: at least one value, every value finite.
    pub fn new(values: Vec<f64>) -> Result<Self, SamplesError> {
        if values.is_empty() {
            return Err(SamplesError::Empty);
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SamplesError::NotFinite { index, value });
        }
        let mut ascending = values.clone();
        ascending.sort_by(f64::total_cmp);
        Ok(Self {
            in_run_order: values,
            ascending,
        })
    }

    /// Number of observations (at least 1).
    pub fn n(&self) -> usize {
        self.in_run_order.len()
    }

    /// The observations in run order; outlier indices refer to this order.
    pub fn values(&self) -> &[f64] {
        &self.in_run_order
    }

    /// The observations sorted ascending.
    pub fn sorted(&self) -> &[f64] {
        &self.ascending
    }

    /// The sample median (mean of the two middle values when `n` is even).
    pub fn median(&self) -> f64 {
        median_of_sorted(&self.ascending)
    }

    /// Every observation multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> Result<Self, SamplesError> {
        Self::new(self.in_run_order.iter().map(|v| v * factor).collect())
    }
}

/// Median of an ascending, non-empty slice.
pub(crate) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    debug_assert!(n > 0, "median of an empty slice");
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_non_finite() {
        assert_eq!(Samples::new(vec![]), Err(SamplesError::Empty));
        assert!(matches!(
            Samples::new(vec![1.0, f64::NAN]),
            Err(SamplesError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Samples::new(vec![f64::INFINITY]),
            Err(SamplesError::NotFinite { index: 0, .. })
        ));
    }

    #[test]
    fn keeps_run_order_and_sorts_a_copy() {
        let s = Samples::new(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!(s.values(), &[3.0, 1.0, 2.0]);
        assert_eq!(s.sorted(), &[1.0, 2.0, 3.0]);
        assert_eq!(s.median(), 2.0);
        assert_eq!(
            Samples::new(vec![4.0, 1.0, 3.0, 2.0]).unwrap().median(),
            2.5
        );
    }
}
