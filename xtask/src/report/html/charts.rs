//! The page's charts, drawn by plotters as SVG at the size they are shown (so a label of
//! [`FONT`] pixels is [`FONT`] pixels on screen): one row per configuration (or per
//! configuration and metric), dots and an interval per row. Every string drawn is a
//! [`label`], an allow-list of characters, since plotters writes text as it gets it.
//!
//! - per timing metric, a strip chart: each run's (or slice's) value a dot, the median a
//!   bar, its interval a line;
//! - instructions per call, one panel per thread role, the base's median beside the head's;
//! - for a paired run, each block's wall-time change.

use maud::{Markup, PreEscaped, html};
use plotters::prelude::*;

use super::page::CONTENT_WIDTH;
use crate::comparison::Comparison;
use crate::comparison::paired::{block_pairs, log_ratio};
use crate::model::metric::{Metric, Unit};
use crate::model::results::ResultFile;
use crate::report::untrusted::label;

/// Chart text as plotters sizes it. Its SVG backend writes a font of size `s` as
/// `font-size="s / 1.24"` pixels (and takes whole sizes only): 18 is 14.5 pixels, well above
/// the page's 11-pixel floor at 100% zoom. (plotters' default, 12, is 9.7 pixels.)
const PLOTTERS_FONT: u32 = 18;
/// One row's height, in pixels.
pub const ROW: u32 = 22;
/// Characters of a configuration id shown in a chart.
pub const LABEL_CHARS: usize = 48;
/// Room for the row labels of a full-width chart, in pixels.
const LABELS: u32 = 330;

/// The colour of the head (and of unjudged rows); the base's.
pub const HEAD: RGBColor = RGBColor(50, 90, 170);
pub const BASE: RGBColor = RGBColor(150, 150, 150);

/// One row of a chart: a label, the dots, and optionally a centre with its interval.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub dots: Vec<f64>,
    pub dot_colour: RGBColor,
    pub centre: Option<(f64, f64, f64)>,
    pub colour: RGBColor,
    /// A line above the row (the first row of a group).
    pub rule: bool,
}

impl Row {
    /// A row with nothing in it yet.
    pub fn new(label: String, colour: RGBColor) -> Self {
        Self {
            label,
            dots: Vec::new(),
            dot_colour: colour,
            centre: None,
            colour,
            rule: false,
        }
    }
}

/// How a chart's x axis maps values.
#[derive(Debug, Clone, Copy)]
pub enum Scale {
    /// Base-10 logarithm (times span 0.1 to 1,000 us).
    Log,
    Linear,
    /// Linear, centred on 0, with a shaded band of ±this many units (0: a line at 0).
    Band(f64),
}

/// One panel: its width, the room for row labels, the x axis' caption.
#[derive(Debug, Clone)]
pub struct Panel<'a> {
    pub width: u32,
    pub labels: u32,
    pub caption: &'a str,
    pub scale: Scale,
}

/// The SVG of one panel of `rows`; `None` when no row has a finite value. Panels of the
/// same rows have the same height and row positions, so they can stand side by side.
pub fn draw(rows: &[Row], panel: &Panel<'_>) -> Option<String> {
    let scale = panel.scale;
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
        let reach = lo.abs().max(hi.abs()).max(band * 1.5).max(0.1);
        (lo, hi) = (-reach, reach);
    }
    let pad = ((hi - lo) * 0.05).max(0.01);
    let (lo, hi) = (lo - pad, hi + pad);
    let height = 70 + ROW * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (panel.width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            // Room for the last tick's label, centred on the right edge.
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(panel.labels)
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
            .x_labels(if panel.width > 600 { 10 } else { 5 })
            .label_style(("sans-serif", PLOTTERS_FONT))
            .axis_desc_style(("sans-serif", PLOTTERS_FONT))
            .x_desc(panel.caption)
            .disable_y_mesh()
            .max_light_lines(1)
            .draw()
            .ok()?;
        if let Scale::Band(band) = scale {
            let shade = RGBColor(232, 232, 232).filled();
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
            if row.rule {
                let rule = RGBColor(200, 200, 200);
                chart
                    .draw_series([PathElement::new(vec![(lo, y + 0.5), (hi, y + 0.5)], rule)])
                    .ok()?;
            }
            let dots = row.dots.iter().map(|&v| to_x(v)).filter(|v| v.is_finite());
            chart
                .draw_series(
                    dots.map(|x| Circle::new((x, y), 4, row.dot_colour.mix(0.55).filled())),
                )
                .ok()?;
            if let Some((centre, low, high)) = row.centre {
                chart
                    .draw_series([
                        PathElement::new(
                            vec![(to_x(low), y), (to_x(high), y)],
                            row.colour.stroke_width(2),
                        ),
                        PathElement::new(
                            vec![(to_x(centre), y - 0.32), (to_x(centre), y + 0.32)],
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

/// Panels side by side (the SVG is plotters' own, its text [`label`]s only).
pub fn panels(svgs: Vec<Option<String>>) -> Markup {
    let svgs: Vec<String> = svgs.into_iter().flatten().collect();
    html! {
        @if svgs.is_empty() {
            p.note { "Nothing to chart." }
        } @else {
            div style="display:flex" { @for svg in svgs { (PreEscaped(svg)) } }
        }
    }
}

/// A full-width panel.
pub fn full(caption: &str, scale: Scale) -> Panel<'_> {
    Panel {
        width: CONTENT_WIDTH,
        labels: LABELS,
        caption,
        scale,
    }
}

/// The strip chart of a timing metric: every run's value per configuration.
pub fn strip(results: &ResultFile, metric: Metric) -> Markup {
    // Times are stored in ns per call and shown in us, as in every other report.
    let shown = match metric.unit() {
        Unit::NanosPerCall => 1e-3,
        _ => 1.0,
    };
    let rows: Vec<Row> = results
        .configurations
        .iter()
        .filter_map(|config| {
            let summary = config.summary.get(&metric)?;
            let mut row = Row::new(label(&config.id, LABEL_CHARS), HEAD);
            row.dots = config
                .samples
                .iter()
                .map(|m| metric.per_call(m) * shown)
                .collect();
            row.centre = Some((
                summary.median * shown,
                summary.ci_low * shown,
                summary.ci_high * shown,
            ));
            Some(row)
        })
        .collect();
    let scale = match metric.unit() {
        Unit::SwitchesPerCall => Scale::Linear,
        _ => Scale::Log,
    };
    let caption = format!(
        "{} per call ({}), each dot a run, bar the median, line its interval",
        metric.label(),
        crate::report::unit(metric)
    );
    panels(vec![draw(&rows, &full(&caption, scale))])
}

/// Instructions per call per role, one panel per role: the base's median a grey dot, the
/// head's a bar with its interval (from its configuration's summary).
pub fn instructions(results: &ResultFile, cmp: Option<&Comparison>) -> Option<Markup> {
    let counted: Vec<_> = results
        .configurations
        .iter()
        .filter(|c| c.summary.contains_key(&Metric::Instructions))
        .collect();
    if counted.is_empty() {
        return None;
    }
    let roles = [
        (Metric::InstructionsLoop, "loop"),
        (Metric::InstructionsWorker, "worker"),
        (Metric::Instructions, "total"),
    ];
    let svgs = roles
        .iter()
        .enumerate()
        .map(|(i, (metric, role))| {
            let rows: Vec<Row> = counted
                .iter()
                .map(|config| {
                    let text = if i == 0 {
                        label(&config.id, LABEL_CHARS)
                    } else {
                        String::new()
                    };
                    let mut row = Row::new(text, HEAD);
                    row.dot_colour = BASE;
                    if let Some(s) = config.summary.get(metric) {
                        row.centre = Some((s.median, s.ci_low, s.ci_high));
                    }
                    if let Some(pair) = cmp.and_then(|c| c.pair(&config.id, *metric)) {
                        row.dots = vec![pair.baseline.median];
                    }
                    row
                })
                .collect();
            let caption = format!("{role} instructions per call");
            let (width, labels) = if i == 0 { (520, LABELS) } else { (340, 12) };
            draw(
                &rows,
                &Panel {
                    width,
                    labels,
                    caption: &caption,
                    scale: Scale::Log,
                },
            )
        })
        .collect();
    Some(panels(svgs))
}

/// Each block's wall-time change per configuration, head/base in percent.
pub fn blocks(results: &ResultFile) -> Option<Markup> {
    let paired = results.paired.as_ref()?;
    let rows: Vec<Row> = results
        .configurations
        .iter()
        .map(|config| {
            let mut row = Row::new(label(&config.id, LABEL_CHARS), HEAD);
            row.dots = block_pairs(&paired.samples, &config.id)
                .iter()
                .map(|pair| (log_ratio(Metric::Wall, pair).exp() - 1.0) * 100.0)
                .filter(|v| v.is_finite())
                .collect();
            row
        })
        .collect();
    let panel = full(
        "wall time per block, head/base, change in percent",
        Scale::Band(0.0),
    );
    Some(panels(vec![draw(&rows, &panel)]))
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
