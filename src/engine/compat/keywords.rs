//! DuckDB's keywords (`SELECT keyword_name FROM duckdb_keywords()`, DuckDB 2.0.1, one per line
//! in `keywords.txt`, sorted): a name that is one is quoted where DuckDB writes an expression back
//! as text.

use std::sync::LazyLock;

const KEYWORDS: &str = include_str!("keywords.txt");
static SORTED: LazyLock<Vec<&str>> = LazyLock::new(|| KEYWORDS.lines().collect());

/// Whether `word` is one of DuckDB's keywords, in any case.
pub(super) fn is_keyword(word: &str) -> bool {
    let word = word.to_ascii_lowercase();
    SORTED.binary_search(&word.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_and_found_in_any_case() {
        assert!(SORTED.len() > 400 && SORTED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_keyword("TYPE") && is_keyword("data") && is_keyword("select"));
        assert!(!is_keyword("ts") && !is_keyword("count") && !is_keyword("email"));
    }
}
