//! The HTML report (`cargo xtask report`, `bench --html`): one self-contained page, its
//! charts inline SVG drawn by plotters (no script, no font or style fetched from anywhere).
//!
//! - a header: host, revision, settings;
//! - per gated metric (wall, CPU total, voluntary switches), a strip chart: every
//!   configuration's per-run (or per-slice) values as dots, the median as a bar, its 95%
//!   interval as a line;
//! - with a comparison, a forest plot: each gated pair's change head/base with its interval,
//!   against the threshold band; regressions red, improvements green;
//! - for a paired run, each configuration's per-block wall-time changes.
//!
//! Every string from the results file is HTML-escaped in the page and reduced to
//! [`label`] inside a chart.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::untrusted::label;
use crate::comparison::paired::{block_pairs, log_ratio};
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::model::metric::Metric;
use crate::model::results::ResultFile;

/// The metrics charted per configuration: the default gate's.
const METRICS: [Metric; 3] = [Metric::Wall, Metric::CpuTotal, Metric::Vcsw];
const WIDTH: u32 = 960;
const ROW: u32 = 22;
const LABEL_CHARS: usize = 40;

/// One row of a chart: a label, the dots, and optionally a centre with its interval.
struct Row {
    label: String,
    dots: Vec<f64>,
    centre: Option<(f64, f64, f64)>,
    colour: RGBColor,
}

/// The page for `results`, with `comparison`'s forest plot when there is one.
pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let mut page = page_start("handoff-bench report");
    page.push_str(&header(results));
    for metric in METRICS {
        let rows = strip_rows(results, metric);
        let title = format!(
            "{} per call ({}), per run",
            metric.label(),
            super::unit(metric)
        );
        push_chart(
            &mut page,
            &format!("strip-{}", metric.cli_name()),
            &title,
            &rows,
            scale(metric),
        );
    }
    if let Some(cmp) = comparison {
        let rows = forest_rows(cmp);
        let band = cmp.policy.threshold * 100.0;
        let title = format!(
            "Change head/base, gated pairs (%), threshold band ±{band}%: {}",
            cmp.baseline_label
        );
        push_chart(
            &mut page,
            "forest",
            &escape(&title),
            &rows,
            Scale::Band(band),
        );
    }
    if let Some(paired) = &results.paired {
        let rows: Vec<Row> = results
            .configurations
            .iter()
            .map(|config| {
                let dots = block_pairs(&paired.samples, &config.id)
                    .iter()
                    .map(|pair| (log_ratio(Metric::Wall, pair).exp() - 1.0) * 100.0)
                    .filter(|v| v.is_finite())
                    .collect();
                Row {
                    label: label(&config.id, LABEL_CHARS),
                    dots,
                    centre: None,
                    colour: RGBColor(60, 90, 170),
                }
            })
            .collect();
        push_chart(
            &mut page,
            "blocks",
            "Wall time per block, head/base (%)",
            &rows,
            Scale::Band(0.0),
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// The page's head and title, shared by the history's page.
pub(crate) fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>body{{font-family:sans-serif;margin:24px;\
         color:#222}}table{{border-collapse:collapse}}td{{padding:2px 10px 2px 0}}\
         section{{margin-top:28px}}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    )
}

fn header(results: &ResultFile) -> String {
    let h = &results.host;
    let s = &results.settings;
    let mut out = String::from("<table class=\"header\">\n");
    let rows = [
        (
            "host",
            format!("{} ({} cores), kernel {}", h.cpu_model, h.cores, h.kernel),
        ),
        ("toolchain", h.rustc.clone()),
        ("revision", results.git.short()),
        (
            "settings",
            format!(
                "work {}, in-flight {}, {} calls, {} runs, {}",
                s.work,
                s.in_flight,
                s.count,
                s.runs,
                super::pinning(s.pin)
            ),
        ),
        ("created", results.created.clone()),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "<tr><td>{name}</td><td>{}</td></tr>", escape(&value));
    }
    out.push_str("</table>\n");
    out
}

fn strip_rows(results: &ResultFile, metric: Metric) -> Vec<Row> {
    // Times are stored in ns per call and shown in us, as in every other report.
    let shown = match metric.unit() {
        crate::model::metric::Unit::NanosPerCall => 1e-3,
        _ => 1.0,
    };
    results
        .configurations
        .iter()
        .filter_map(|config| {
            let summary = config.summary.get(&metric)?;
            Some(Row {
                label: label(&config.id, LABEL_CHARS),
                dots: config
                    .samples
                    .iter()
                    .map(|m| metric.per_call(m) * shown)
                    .collect(),
                centre: Some((
                    summary.median * shown,
                    summary.ci_low * shown,
                    summary.ci_high * shown,
                )),
                colour: RGBColor(60, 90, 170),
            })
        })
        .collect()
}

fn forest_rows(cmp: &Comparison) -> Vec<Row> {
    cmp.gated()
        .filter_map(|pair: &PairComparison| {
            let ratio = pair.estimate.ratio?;
            let ci = pair.estimate.ratio_ci?;
            let pct = |r: f64| (r - 1.0) * 100.0;
            Some(Row {
                label: label(
                    &format!("{} {}", pair.id, pair.metric.cli_name()),
                    LABEL_CHARS,
                ),
                dots: Vec::new(),
                centre: Some((pct(ratio), pct(ci.low), pct(ci.high))),
                colour: match pair.verdict {
                    Verdict::Regressed => RGBColor(200, 30, 30),
                    Verdict::Improved => RGBColor(30, 140, 60),
                    Verdict::Unchanged | Verdict::Inconclusive => RGBColor(90, 90, 90),
                },
            })
        })
        .collect()
}

/// How a chart's x axis maps values.
#[derive(Clone, Copy)]
enum Scale {
    /// Base-10 logarithm (times span 0.1 to 1,000 us).
    Log,
    Linear,
    /// Linear, centred on 0, with a shaded band of ±this many units (0: a line at 0).
    Band(f64),
}

fn scale(metric: Metric) -> Scale {
    match metric.unit() {
        crate::model::metric::Unit::SwitchesPerCall => Scale::Linear,
        _ => Scale::Log,
    }
}

/// Appends a section with the chart of `rows` (nothing drawn when there is nothing to show).
fn push_chart(page: &mut String, id: &str, title: &str, rows: &[Row], scale: Scale) {
    let _ = writeln!(
        page,
        "<section class=\"chart\" id=\"{id}\">\n<h2>{title}</h2>"
    );
    match draw(rows, scale) {
        Some(svg) => page.push_str(&svg),
        None => page.push_str("<p>Nothing to chart.</p>"),
    }
    page.push_str("\n</section>\n");
}

/// The SVG of one chart; `None` when no row has a finite value.
fn draw(rows: &[Row], scale: Scale) -> Option<String> {
    let to_x = |v: f64| match scale {
        Scale::Log => v.max(1e-3).log10(),
        Scale::Linear | Scale::Band(_) => v,
    };
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| {
            r.dots
                .iter()
                .copied()
                .chain(r.centre.into_iter().flat_map(|(m, lo, hi)| [m, lo, hi]))
        })
        .map(to_x)
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if let Scale::Band(band) = scale {
        let reach = lo.abs().max(hi.abs()).max(band * 1.5).max(1.0);
        (lo, hi) = (-reach, reach);
    }
    let pad = ((hi - lo) * 0.05).max(0.01);
    let (lo, hi) = (lo - pad, hi + pad);
    let height = 80 + ROW * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(300)
            .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
            .ok()?;
        let label_of = |y: &f64| {
            let index = y.round();
            if (index - y).abs() > 0.01 || index < 0.0 || index > n - 1.0 {
                return String::new();
            }
            // The first row is drawn at the top.
            rows.get((n - 1.0 - index) as usize)
                .map_or_else(String::new, |r| r.label.clone())
        };
        let x_text = |x: &f64| match scale {
            Scale::Log => format_value(10f64.powf(*x)),
            Scale::Linear | Scale::Band(_) => format_value(*x),
        };
        chart
            .configure_mesh()
            .y_labels(rows.len().max(1))
            .y_label_formatter(&label_of)
            .x_label_formatter(&x_text)
            .disable_y_mesh()
            .max_light_lines(1)
            .draw()
            .ok()?;
        if let Scale::Band(band) = scale {
            let shade = RGBColor(230, 230, 230).filled();
            chart
                .draw_series([Rectangle::new(
                    [(-band, -0.5), (band.max(1e-9), n - 0.5)],
                    shade,
                )])
                .ok()?;
            chart
                .draw_series([PathElement::new(vec![(0.0, -0.5), (0.0, n - 0.5)], BLACK)])
                .ok()?;
        }
        for (index, row) in rows.iter().enumerate() {
            let y = n - 1.0 - index as f64;
            let dots = row.dots.iter().map(|&v| to_x(v)).filter(|v| v.is_finite());
            chart
                .draw_series(dots.map(|x| Circle::new((x, y), 3, row.colour.mix(0.45).filled())))
                .ok()?;
            if let Some((centre, low, high)) = row.centre {
                let style = row.colour.stroke_width(2);
                chart
                    .draw_series([
                        PathElement::new(vec![(to_x(low), y), (to_x(high), y)], style),
                        PathElement::new(
                            vec![(to_x(centre), y - 0.3), (to_x(centre), y + 0.3)],
                            row.colour.stroke_width(3),
                        ),
                    ])
                    .ok()?;
            }
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A number for an axis: three significant digits.
fn format_value(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude >= 100.0 {
        format!("{v:.0}")
    } else if magnitude >= 10.0 {
        format!("{v:.1}")
    } else if magnitude >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `text` safe inside HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    #[test]
    fn one_page_with_a_chart_per_metric_and_nothing_fetched() {
        let results = result_file(&[
            ("floor/park", &[14_000.0, 14_200.0, 13_900.0]),
            ("smol/dedicated", &[800.0, 820.0, 790.0]),
        ]);
        let page = render(&results, None);
        assert!(page.starts_with("<!DOCTYPE html>"));
        for id in ["strip-wall", "strip-cpu-total", "strip-vcsw"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains("floor/park") && page.contains("smol/dedicated"));
        // Self-contained: no script, no external reference.
        for banned in ["<script", "http://", "https://", "@import", "url("] {
            let outside_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_namespace.contains(banned), "{banned}");
        }
    }

    #[test]
    fn strings_from_the_file_are_escaped_or_reduced_to_labels() {
        let mut results = result_file(&[("floor/park", &[14_000.0, 14_100.0])]);
        results.host.cpu_model = "<script>alert(1)</script>".to_owned();
        let page = render(&results, None);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(label("a<b>\"c\" d", 40), "a_b__c__d");
    }
}
