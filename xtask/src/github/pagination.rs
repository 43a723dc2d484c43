//! The `Link` response header: finding the `rel="next"` page.
//!
//! Ours rather than octocrab's `Page`, whose parser is private to it, reads only the first
//! `Link` header, splits at every comma (a URL may hold one) and prints to stderr for an
//! unknown `rel`; and whose `all_pages` would follow a link to any host, without end (the
//! reasons in full: [`super::client`]). Every `Link` header is read, each `<url>` whole, and
//! a `rel` may name several relations (`rel="next last"`).

use http::HeaderMap;
use http::header::LINK;

/// The URL of the next page named by the `Link` header(s), if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_in)
}

/// Parses one `Link` value: `<url>; rel="next", <url>; rel="last"`.
fn next_in(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let url = &after[..close];
        let params_and_more = &after[close + 1..];
        let params_end = params_and_more.find('<').unwrap_or(params_and_more.len());
        let params = &params_and_more[..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.strip_prefix("rel=").is_some_and(|rel| {
                rel.trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(url.to_owned());
        }
        rest = &params_and_more[params_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(LINK, value.parse().unwrap());
        h
    }

    #[test]
    fn github_style_link_header() {
        let h = link(
            r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="last""#,
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2")
        );
    }

    #[test]
    fn last_page_has_no_next() {
        let h = link(r#"<https://x/c?page=1>; rel="prev", <https://x/c?page=1>; rel="first""#);
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn next_in_a_second_header_or_not_first() {
        let mut h = link(r#"<https://x/c?page=1>; rel="prev""#);
        h.append(LINK, r#"<https://x/c?page=3>; rel="next""#.parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("https://x/c?page=3"));
        let h = link(r#"<https://x/a>; rel="first", <https://x/b>; rel=next"#);
        assert_eq!(next_link(&h).as_deref(), Some("https://x/b"));
    }
}
