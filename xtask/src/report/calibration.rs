//! The terminal report of `cargo xtask calibrate`, for either instrument: [`timing`] or
//! [`counters`], both opening alike ([`common`], which also has the progress lines).

pub mod common;
pub mod counters;
pub mod timing;

use crate::comparison::calibration::Calibration;
use crate::comparison::calibration::settings::Instrument;

/// The report of `c`, by the instrument it calibrated.
pub fn render(c: &Calibration) -> String {
    match c.settings.instrument {
        Instrument::Timing(_) => timing::render(c),
        Instrument::Counters(_) => counters::render(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(
            &crate::comparison::calibration::tests::timing_fixture()
        ));
    }
}
