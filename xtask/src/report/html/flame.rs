//! Differential flame graphs: one role's stacks on both sides of a comparison
//! (`comparison::profile_diff::differential_folded`) laid out by inferno, red where the head
//! executes more instructions per call than the base, blue where fewer, widths the head's.
//!
//! # How it works
//!
//! 1. inferno lays the folded lines out (`inferno::flamegraph::from_lines`): every frame's
//!    box, its colour from the change of its own instructions, its label cut to fit, and a
//!    tooltip (`function (N instr/call, P%; +D%)`).
//! 2. inferno's SVG is made to be opened on its own: an XML prologue, a stylesheet whose
//!    rules (`text {...}`, `#title`) would apply to the whole page, element ids that would
//!    clash between two graphs, and a script for zooming. So it is not embedded: it is read
//!    back ([`FlameGraph::parse`], quick-xml) into typed frames (numbers, a colour, two
//!    strings), and [`FlameGraph::markup`] draws those with maud, which escapes the function
//!    names (untrusted text from the code under test) by construction. No script: the
//!    tooltips are SVG `<title>` elements, which the browser shows by itself.

use std::fmt;

use maud::{Markup, html};
use quick_xml::events::Event;

/// The graph's width in CSS pixels: the page's content width, so it is drawn unscaled.
pub const WIDTH: usize = 1200;
/// Frame labels, in pixels (the page's style sets the same size, `FONT_CSS`).
const FONT_SIZE: usize = 13;
/// One frame's height, in pixels.
const FRAME_HEIGHT: usize = 18;
/// Folded counts are instructions per call times this (`differential_folded`'s scale).
pub const SCALE: u64 = 1000;

/// Why a flame graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    #[error("no stack has instructions on the head")]
    Empty,
    #[error("inferno failed: {0}")]
    Inferno(#[from] std::io::Error),
    #[error("unexpected flame graph SVG: {0}")]
    Unexpected(String),
}

/// A colour as inferno chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rgb({},{},{})", self.0, self.1, self.2)
    }
}

impl Rgb {
    /// Red: the head executes more here (inferno's differential colours are `rgb(255,c,c)`).
    pub fn is_red(self) -> bool {
        self.0 == 255 && self.1 == self.2 && self.1 < 250
    }

    /// Blue: the head executes fewer here.
    pub fn is_blue(self) -> bool {
        self.2 == 255 && self.0 == self.1 && self.0 < 250
    }
}

/// One frame: a function in one stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `function (N instr/call, P%; +D%)`: untrusted text.
    pub title: String,
    /// Box, x and width in percent of the frames' area, y and height in pixels.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub fill: Rgb,
    /// The function's name as far as it fits (empty when nothing fits): untrusted text.
    pub label: String,
    /// Where the label starts: x in percent, y in pixels.
    pub label_x: f64,
    pub label_y: f64,
}

/// A laid-out differential flame graph.
#[derive(Debug, Clone, PartialEq)]
pub struct FlameGraph {
    /// The whole graph, in pixels.
    pub width: f64,
    pub height: f64,
    /// The frames' area: its left edge and width, in pixels.
    pub frames_x: f64,
    pub frames_width: f64,
    pub frames: Vec<Frame>,
}

impl FlameGraph {
    /// The graph of `folded` (`stack BASE HEAD` a line, counts times [`SCALE`]).
    pub fn differential(folded: &str) -> Result<Self, FlameError> {
        let mut lines: Vec<&str> = folded.lines().filter(|l| !l.trim().is_empty()).collect();
        lines.sort_unstable();
        let head_total: u64 = lines
            .iter()
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum();
        if head_total == 0 {
            return Err(FlameError::Empty);
        }
        let mut options = inferno::flamegraph::Options::default();
        options.image_width = Some(WIDTH);
        options.font_type = "monospace".to_owned();
        options.font_size = FONT_SIZE;
        // DejaVu Sans Mono's advance is 0.602 em: labels are cut to what fits.
        options.font_width = 0.61;
        options.frame_height = FRAME_HEIGHT;
        options.count_name = "instr/call".to_owned();
        options.factor = 1.0 / SCALE as f64;
        options.title = String::new();
        options.no_sort = true;
        options.no_javascript = true;
        let mut svg = Vec::new();
        inferno::flamegraph::from_lines(&mut options, lines, &mut svg)?;
        let svg = String::from_utf8(svg).map_err(|e| FlameError::Unexpected(e.to_string()))?;
        Self::parse(&svg)
    }

    /// The frames of an SVG inferno wrote (see the module's step 2).
    pub fn parse(svg: &str) -> Result<Self, FlameError> {
        let bad = |what: &str| FlameError::Unexpected(what.to_owned());
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut graph = FlameGraph {
            width: 0.0,
            height: 0.0,
            frames_x: 0.0,
            frames_width: 0.0,
            frames: Vec::new(),
        };
        let mut svg_depth = 0;
        let mut frame: Option<Frame> = None;
        let mut text_into: Option<Target> = None;
        loop {
            let event = reader.read_event().map_err(|e| bad(&e.to_string()))?;
            match event {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let attr = |name: &str| -> Option<String> {
                        e.attributes()
                            .filter_map(Result::ok)
                            .find(|a| a.key.as_ref() == name.as_bytes())
                            .and_then(|a| String::from_utf8(a.value.into_owned()).ok())
                    };
                    let number = |name: &str| -> Result<f64, FlameError> {
                        let text = attr(name).ok_or_else(|| bad(&format!("no {name}")))?;
                        number(&text).ok_or_else(|| bad(&format!("{name}={text}")))
                    };
                    match e.name().as_ref() {
                        b"svg" if svg_depth == 0 => {
                            svg_depth = 1;
                            graph.width = number("width")?;
                            graph.height = number("height")?;
                        }
                        b"svg" => {
                            svg_depth = 2;
                            graph.frames_x = number("x")?;
                            graph.frames_width = number("width")?;
                        }
                        b"g" if svg_depth == 2 => {
                            frame = Some(Frame {
                                title: String::new(),
                                x: 0.0,
                                y: 0.0,
                                width: 0.0,
                                height: 0.0,
                                fill: Rgb(0, 0, 0),
                                label: String::new(),
                                label_x: 0.0,
                                label_y: 0.0,
                            });
                        }
                        b"title" if frame.is_some() => text_into = Some(Target::Title),
                        b"rect" => {
                            if let Some(f) = frame.as_mut() {
                                f.x = number("x")?;
                                f.y = number("y")?;
                                f.width = number("width")?;
                                f.height = number("height")?;
                                let fill = attr("fill").unwrap_or_default();
                                f.fill = rgb(&fill).ok_or_else(|| bad(&format!("fill={fill}")))?;
                            }
                        }
                        b"text" => {
                            if let Some(f) = frame.as_mut() {
                                f.label_x = number("x")?;
                                f.label_y = number("y")?;
                                text_into = Some(Target::Label);
                            }
                        }
                        _ => {}
                    }
                }
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| bad(&e.to_string()))?;
                    push_text(frame.as_mut(), text_into, &text);
                }
                Event::GeneralRef(r) => {
                    let text = match r.resolve_char_ref().map_err(|e| bad(&e.to_string()))? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.decode().map_err(|e| bad(&e.to_string()))?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| bad(&format!("entity {name}")))?
                                .to_owned()
                        }
                    };
                    push_text(frame.as_mut(), text_into, &text);
                }
                Event::End(e) => match e.name().as_ref() {
                    b"title" | b"text" => text_into = None,
                    b"g" => graph.frames.extend(frame.take()),
                    _ => {}
                },
                _ => {}
            }
        }
        if graph.frames.is_empty() || graph.width <= 0.0 {
            return Err(bad("no frames"));
        }
        Ok(graph)
    }

    /// The graph as inline SVG, at its own size in pixels, cut to its frames (inferno
    /// leaves room above and below them for a title and a script's text).
    pub fn markup(&self) -> Markup {
        let pct = |v: f64| format!("{v:.4}%");
        let top = self.frames.iter().map(|f| f.y).fold(self.height, f64::min) - 6.0;
        let bottom = self
            .frames
            .iter()
            .map(|f| f.y + f.height)
            .fold(0.0, f64::max)
            + 6.0;
        let (top, height) = (top.max(0.0), (bottom - top.max(0.0)).max(1.0));
        html! {
            svg.flame xmlns="http://www.w3.org/2000/svg" width=(self.width) height=(height)
                viewBox=(format!("0 {top} {} {height}", self.width)) {
                rect y=(top) width="100%" height=(height) fill="#ffffff" {}
                // As tall as the frames reach from the top of the graph: a nested SVG
                // clips what lies below its height.
                svg x=(self.frames_x) width=(self.frames_width) height=(bottom) {
                    @for f in &self.frames {
                        g {
                            title { (f.title) }
                            rect x=(pct(f.x)) y=(f.y) width=(pct(f.width)) height=(f.height)
                                fill=(f.fill) stroke="#b4b4b4" stroke-width="0.5" {}
                            @if !f.label.is_empty() {
                                text x=(pct(f.label_x)) y=(f.label_y) { (f.label) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The frames whose tooltip starts with `function ` (its name then its counts).
    pub fn frames_of<'a>(&'a self, function: &'a str) -> impl Iterator<Item = &'a Frame> {
        self.frames.iter().filter(move |f| {
            f.title
                .strip_prefix(function)
                .is_some_and(|rest| rest.starts_with(" ("))
        })
    }
}

/// Which text of a frame is being read.
#[derive(Debug, Clone, Copy)]
enum Target {
    Title,
    Label,
}

fn push_text(frame: Option<&mut Frame>, into: Option<Target>, text: &str) {
    match (frame, into) {
        (Some(f), Some(Target::Title)) => f.title.push_str(text),
        (Some(f), Some(Target::Label)) => f.label.push_str(text),
        _ => {}
    }
}

/// `12.5`, `12.5%` or `12.5px` as a number.
fn number(text: &str) -> Option<f64> {
    let v: f64 = text
        .trim_end_matches('%')
        .trim_end_matches("px")
        .parse()
        .ok()?;
    v.is_finite().then_some(v)
}

/// `rgb(255,100,100)` as its three channels.
fn rgb(text: &str) -> Option<Rgb> {
    let inner = text.strip_prefix("rgb(")?.strip_suffix(')')?;
    let mut channels = inner.split(',').map(|c| c.trim().parse::<u8>().ok());
    let colour = Rgb(channels.next()??, channels.next()??, channels.next()??);
    channels.next().is_none().then_some(colour)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base: `main` calls `work` (40 per call). Head: `work` fell to 30, `added` (new, 25)
    /// runs under `main` too.
    const DIFF: &str = "main 1000 1000\nmain;work 40000 30000\nmain;added 0 25000\n";

    #[test]
    fn the_added_function_is_red_the_lighter_one_blue_and_the_rest_neutral() {
        let graph = FlameGraph::differential(DIFF).unwrap();
        let added: Vec<&Frame> = graph.frames_of("added").collect();
        assert_eq!(added.len(), 1);
        assert!(added[0].fill.is_red(), "{:?}", added[0]);
        assert!(
            added[0].title.contains("25 instr/call"),
            "{}",
            added[0].title
        );
        let work: Vec<&Frame> = graph.frames_of("work").collect();
        assert!(work[0].fill.is_blue(), "{:?}", work[0]);
        // `main`'s own instructions did not change: neither red nor blue.
        let main = graph.frames_of("main").next().unwrap();
        assert!(!main.fill.is_red() && !main.fill.is_blue(), "{main:?}");
        // Widths are the head's: `added` is 25 of 56 instructions per call.
        let share = added[0].width / 100.0;
        assert!((share - 25.0 / 56.0).abs() < 0.01, "{share}");
    }

    #[test]
    fn names_are_escaped_by_construction_and_nothing_of_inferno_is_kept() {
        // No `;`: folded stacks separate frames with it, and `Stacks::folded` replaces it.
        let hostile = "<script>alert(1)</script>&amp \"x\"";
        let graph =
            FlameGraph::differential(&format!("main 0 10\nmain;{hostile} 0 5000\n")).unwrap();
        assert_eq!(graph.frames_of(hostile).count(), 1, "read back as it was");
        let svg = graph.markup().into_string();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp &quot;x&quot;"),
            "{svg}"
        );
        for inferno_only in ["onload", "<style", "id=", "<!DOCTYPE", "<?xml", "fg:"] {
            assert!(!svg.contains(inferno_only), "{inferno_only}");
        }
    }

    #[test]
    fn nothing_on_the_head_is_no_graph() {
        assert!(matches!(
            FlameGraph::differential("main 100 0\n"),
            Err(FlameError::Empty)
        ));
        assert_eq!(rgb("rgb(1,2,3)"), Some(Rgb(1, 2, 3)));
        assert_eq!(rgb("rgb(1,2,3,4)"), None);
        assert_eq!(rgb("url(#x)"), None);
    }
}
