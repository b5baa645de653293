//! Values as a page shows them: escaped for HTML, numbers as people read them, labels.

use serde_json::Value;

/// Text as HTML text or an attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Numbers as people read them: thousands separated, at most two decimals.
pub fn human(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => group_thousands(&n.to_string()),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            // Small values keep enough decimals to be seen at all; large ones need none.
            let text = match f.abs() {
                a if a < 1.0 => format!("{f:.4}"),
                a if a < 1000.0 => format!("{f:.2}"),
                _ => format!("{f:.0}"),
            };
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { group_thousands(int) } else { format!("{}.{frac}", group_thousands(int)) }
        }
        Value::Null => "—".to_string(),
        other => label_of(other),
    }
}

fn group_thousands(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// The text of a value as a chart label.
pub(crate) fn label_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// The value as a number, when it is one.
pub(crate) fn number_of(value: &Value) -> Option<f64> {
    value.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(human(&json!(1234567)), "1,234,567");
        assert_eq!(human(&json!(-1234)), "-1,234");
        assert_eq!(human(&json!(1234.5)), "1,234");
        assert_eq!(human(&json!(12.345)), "12.35");
        assert_eq!(human(&json!(0.004)), "0.004");
        assert_eq!(human(&json!(null)), "—");
        assert_eq!(human(&json!("a<b")), "a<b");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
