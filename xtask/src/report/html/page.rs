//! The page around the reports' HTML: the document, its one stylesheet, and the anchors
//! that link a configuration's row to its details. Every page is one self-contained file:
//! no script, no font, style or image fetched from anywhere.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::report::untrusted::label;

/// The page's width for content, in CSS pixels: charts are drawn this wide, so that in a
/// 1280-pixel window (a 15-pixel scroll bar and the margins aside) they are not scaled and
/// their text keeps its size.
pub const CONTENT_WIDTH: u32 = 1200;

/// The stylesheet: the renderer's own text, no value from a results file.
const STYLE: &str = "\
body{font:15px/1.4 sans-serif;color:#222;max-width:1200px;margin:16px auto;padding:0 12px}\
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 8px}h3{font-size:16px;margin:18px 0 6px}\
table{border-collapse:collapse;margin:6px 0}\
th,td{padding:3px 10px 3px 0;text-align:left;vertical-align:top;border-bottom:1px solid #e4e4e4}\
th{font-weight:600;border-bottom:2px solid #bbb}td.num{text-align:right;white-space:nowrap}\
code,.id{font-family:monospace;font-size:14px}table.changed{width:100%}\
tr.explained td{border-bottom:2px solid #bbb;padding:0 0 8px 24px}tr.explained p{margin:4px 0}\
ul.functions{margin:2px 0;padding-left:18px}ul.functions code{overflow-wrap:anywhere}\
.regressed{color:#b00000;font-weight:600}.improved{color:#1c7a35;font-weight:600}\
.inconclusive{color:#8a5a00}.verdict{padding:10px 14px;border-left:6px solid #888;background:#f6f6f6}\
.verdict.bad{border-color:#c81e1e}.verdict.good{border-color:#1e8c3c}\
.note{color:#555}svg{max-width:100%;height:auto;display:block}\
.flame text{font:13px monospace;fill:#000}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-1px}\
section.config{border-top:1px solid #ccc;margin-top:22px}";

/// A whole page: `title`, then `body`.
pub fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The anchor of the `index`-th configuration's details: `config-3-tokio-current-dedicated`
/// (the index keeps two ids that reduce to one label apart).
pub fn anchor(index: usize, id: &str) -> String {
    format!("config-{index}-{}", label(id, 60).replace('/', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_plain_and_distinct() {
        assert_eq!(
            anchor(3, "tokio-current/dedicated"),
            "config-3-tokio-current-dedicated"
        );
        assert_ne!(anchor(0, "a b"), anchor(1, "a_b"));
        assert_eq!(anchor(0, "<x\" onload=y>"), "config-0-_x__onload_y_");
    }

    #[test]
    fn the_title_is_escaped() {
        let page = document("a <b> & c", html! { p { "x" } });
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>a &lt;b&gt; &amp; c</title>"));
    }
}
