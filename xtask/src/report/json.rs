//! The `--json` report: the result file itself, plus the comparison when there is one.
//!
//! It is a valid result file (extra fields are ignored on load), so it can later serve as
//! a baseline or as an argument of `cargo xtask compare`.

use serde::Serialize;

use crate::comparison::Comparison;
use crate::model::results::ResultFile;

#[derive(Serialize)]
struct WithComparison<'a> {
    #[serde(flatten)]
    results: &'a ResultFile,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<&'a Comparison>,
}

pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    super::pretty_json(&WithComparison {
        results,
        comparison,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::report::tests::{fixture, fixture_comparison};

    #[test]
    fn snapshot_and_reloads_as_a_result_file() {
        let (baseline, current) = fixture();
        let cmp = fixture_comparison(&baseline, &current);
        let text = render(&current, Some(&cmp));
        let reloaded = ResultFile::parse(&text, Path::new("out.json")).unwrap();
        assert_eq!(reloaded, current);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        insta::assert_json_snapshot!(value["comparison"]["pairs"][0]);
        insta::assert_json_snapshot!(value["configurations"][0]["summary"]["wall_ns_per_call"]);
        assert_eq!(value["comparison"].get("not_gated"), None);
    }

    #[test]
    fn times_not_gated_carry_their_reason() {
        let (baseline, current) = fixture();
        let current = crate::report::tests::another_boot(current);
        let cmp = fixture_comparison(&baseline, &current);
        let text = render(&current, Some(&cmp));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let not_gated = &value["comparison"]["not_gated"][0];
        assert_eq!(
            not_gated["metrics"],
            serde_json::json!(["wall_ns_per_call", "cpu_total_ns_per_call", "vcsw_per_call"])
        );
        assert!(
            not_gated["reason"]
                .as_str()
                .unwrap()
                .contains("different boots"),
            "{not_gated}"
        );
        assert_eq!(not_gated["differences"][0]["field"], "boot");
        assert_eq!(value["comparison"]["pairs"][0]["gated"], false);
        assert_eq!(value["host"]["boot"], "07d2b9e45c1a3f68");
        assert_eq!(value["host"]["glibc"], "glibc 2.36");
        let reloaded = ResultFile::parse(&text, Path::new("out.json")).unwrap();
        assert_eq!(reloaded, current);
    }
}
