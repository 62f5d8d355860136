//! Query strings (`application/x-www-form-urlencoded`), decoded by `form_urlencoded`: `+` is a
//! space, `%XX` a byte, an invalid escape stays as it is, invalid UTF-8 becomes U+FFFD. The one
//! reader of query parameters of every component.

/// The decoded parameters of a query string (without its `?`), in order.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of parameter `name` (possibly empty).
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The first value of parameter `name` in a query string, if present and not blank.
pub fn value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_escapes_and_keeps_invalid_escapes() {
        let p = pairs("q=a+b%20c&x=%zz&&flag&t=%E2%9C%93&bad=%FF");
        assert_eq!(first(&p, "q"), Some("a b c"));
        assert_eq!(first(&p, "x"), Some("%zz"));
        assert_eq!(first(&p, "flag"), Some(""));
        assert_eq!(first(&p, "t"), Some("\u{2713}"));
        assert_eq!(first(&p, "bad"), Some("\u{FFFD}"));
        assert_eq!(first(&p, "missing"), None);
    }

    #[test]
    fn value_skips_blank_values_and_matches_decoded_names() {
        assert_eq!(value("a=&b=+&c=1", "a"), None);
        assert_eq!(value("a=&b=+&c=1", "b"), None);
        assert_eq!(value("a=&b=+&c=1", "c").as_deref(), Some("1"));
        assert_eq!(value("due%5Fdate=x", "due_date").as_deref(), Some("x"));
        assert_eq!(
            value("tzid=Europe%2FBerlin", "tzid").as_deref(),
            Some("Europe/Berlin")
        );
    }
}
