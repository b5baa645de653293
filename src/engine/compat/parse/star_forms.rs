//! DuckDB's forms of the star the parser does not take: `* EXCEPT`, `* REPLACE` without
//! parentheses, `* LIKE 'pattern'` and qualified names in `* RENAME`.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::engine::compat::parse::tokens::{Edit, clause_end, is_word, offsets};
use crate::error::Result;

/// `* REPLACE i + 1 AS i`, one replacement without its parentheses, as the parser takes it:
/// `* REPLACE (i + 1 AS i)`.
pub(crate) fn star_replace_parens(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("replace") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let mut edits = Vec::new();
    for i in 1..tokens.len().saturating_sub(1) {
        let after_star = matches!(tokens[i - 1].token, Token::Mul | Token::RParen);
        if !is_word(tokens, i, "replace") || !after_star || tokens[i + 1].token == Token::LParen {
            continue;
        }
        let end = clause_end(
            tokens,
            i + 1,
            |j| matches!(&tokens[j].token, Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::FROM),
        );
        if end == i + 1 {
            continue;
        }
        let start = offset(tokens[i + 1].span.start);
        let stop = offset(tokens[end - 1].span.end);
        edits.push((start, start, "(".to_string()));
        edits.push((stop, stop, ")".to_string()));
    }
    Ok(edits)
}

/// `* EXCEPT (a, b)`, DuckDB's other spelling of `* EXCLUDE (a, b)` (a `*` cannot stand before a
/// set operation's EXCEPT, which follows a FROM or a select item, never a bare star).
pub(crate) fn star_except(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("except") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let significant: Vec<&TokenWithSpan> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let mut edits = Vec::new();
    for window in significant.windows(3) {
        let [star, except, next] = window else { continue };
        let is_except =
            matches!(&except.token, Token::Word(w) if w.keyword == Keyword::EXCEPT && w.quote_style.is_none());
        let query_follows = matches!(&next.token, Token::Word(w)
            if w.quote_style.is_none() && matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::FROM | Keyword::ALL | Keyword::DISTINCT));
        if star.token == Token::Mul && is_except && !query_follows {
            edits.push((offset(except.span.start), offset(except.span.end), "EXCLUDE".into()));
        }
    }
    Ok(edits)
}

/// `SELECT * LIKE 'col%'` (`ILIKE`, `SIMILAR TO 'regex'`, `~ 'regex'`, `~* 'regex'`): the columns
/// whose names match, as `COLUMNS('regex')` selects them; negated or with an `ESCAPE`, as
/// `COLUMNS(c -> c NOT LIKE 'col%')` selects them; a qualified `t.*`, as this layer's
/// `COLUMNS(..., 't')` selects them among `t`'s. (Renaming patterns are left to the parser,
/// which refuses them.)
pub(crate) fn star_patterns(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("like") && !lower.contains("similar") && !lower.contains('~') {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let keyword = |i: usize, k: Keyword| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none());
    let text = |i: usize| match tokens.get(i).map(|t| &t.token) {
        Some(Token::SingleQuotedString(text)) => Some(text.clone()),
        _ => None,
    };
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        if tokens[i].token != Token::Mul || i == 0 {
            continue;
        }
        // `t.*`: the table's name, and where the star begins.
        let (table, start) = match (&tokens[i - 1].token, i.checked_sub(2).map(|j| &tokens[j].token)) {
            (Token::Period, Some(Token::Word(w))) => (Some(w.value.clone()), i - 2),
            (Token::Period, _) => continue,
            _ => (None, i),
        };
        let negated = keyword(i + 1, Keyword::NOT);
        let at = if negated { i + 2 } else { i + 1 };
        let (operator, pattern_at, regex): (&str, usize, fn(&str) -> String) = if keyword(at, Keyword::LIKE) {
            ("LIKE", at + 1, |p| format!("^{}$", like_regex(p, None)))
        } else if keyword(at, Keyword::ILIKE) {
            ("ILIKE", at + 1, |p| format!("(?i)^{}$", like_regex(p, None)))
        } else if keyword(at, Keyword::SIMILAR) && keyword(at + 1, Keyword::TO) {
            ("SIMILAR TO", at + 2, |p| format!("^(?:{p})$"))
        } else if !negated && matches!(tokens.get(at).map(|t| &t.token), Some(Token::Tilde)) {
            ("~", at + 1, |p| p.to_string())
        } else if !negated && matches!(tokens.get(at).map(|t| &t.token), Some(Token::TildeAsterisk)) {
            ("~*", at + 1, |p| format!("(?i){p}"))
        } else {
            continue;
        };
        let Some(pattern) = text(pattern_at) else { continue };
        let escape = text(pattern_at + 2).filter(|_| keyword(pattern_at + 1, Keyword::ESCAPE));
        let end = if escape.is_some() { pattern_at + 2 } else { pattern_at };
        // `AS 'c\1'` renames each column by the pattern's groups: not supported.
        if keyword(end + 1, Keyword::AS) && text(end + 2).is_some_and(|alias| alias.contains('\\')) {
            continue;
        }
        let quoted = |t: &str| format!("'{}'", t.replace('\'', "''"));
        let test = match &escape {
            None if !negated => quoted(&regex(&pattern)),
            _ => {
                let not = if negated { "NOT " } else { "" };
                let escape = escape.as_deref().map(|e| format!(" ESCAPE {}", quoted(e))).unwrap_or_default();
                format!("__column -> __column {not}{operator} {}{escape}", quoted(&pattern))
            }
        };
        let columns = match &table {
            Some(table) => format!("COLUMNS({test}, {})", quoted(table)),
            None => format!("COLUMNS({test})"),
        };
        edits.push((offset(tokens[start].span.start), offset(tokens[end].span.end), columns));
    }
    Ok(edits)
}

/// A LIKE pattern as an unanchored regular expression: `%` any text, `_` one character, the
/// character after `escape` as itself.
pub(crate) fn like_regex(pattern: &str, escape: Option<char>) -> String {
    let mut regex = String::new();
    let mut escaped = false;
    for c in pattern.chars() {
        match c {
            c if escaped => {
                regex.push_str(&regex::escape(&c.to_string()));
                escaped = false;
            }
            c if Some(c) == escape => escaped = true,
            '%' => regex.push_str(".*"),
            '_' => regex.push('.'),
            c => regex.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex
}

/// A qualified name in a star's RENAME (`* RENAME (t.a AS b)`), which the parser does not take:
/// written as one quoted name (`"t.a" AS b`), which `expand::star_options` reads as qualified.
pub(crate) fn qualified_renames(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Edit>> {
    if !sql.to_ascii_lowercase().contains("rename") {
        return Ok(Vec::new());
    }
    let offset = offsets(sql);
    let significant: Vec<usize> =
        (0..tokens.len()).filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_))).collect();
    let plain = |i: usize| matches!(&tokens[i].token, Token::Word(w) if w.quote_style.is_none());
    let mut edits = Vec::new();
    for (k, &i) in significant.iter().enumerate() {
        if !is_word(tokens, i, "rename") {
            continue;
        }
        // The items: one, or a parenthesised list.
        let listed = significant.get(k + 1).is_some_and(|&j| tokens[j].token == Token::LParen);
        let mut at = k + 1 + usize::from(listed);
        while let [Some(&first), Some(&dot), Some(&second)] =
            [significant.get(at), significant.get(at + 1), significant.get(at + 2)]
        {
            if plain(first) && tokens[dot].token == Token::Period && plain(second) {
                let written = &sql[offset(tokens[first].span.start)..offset(tokens[second].span.end)];
                let quoted = format!("\"{}\"", written.replace(char::is_whitespace, ""));
                edits.push((offset(tokens[first].span.start), offset(tokens[second].span.end), quoted));
            }
            if !listed {
                break;
            }
            // The next item, after the comma at this depth.
            let mut depth = 0usize;
            let next = significant[at..].iter().position(|&j| match tokens[j].token {
                Token::LParen => {
                    depth += 1;
                    false
                }
                Token::RParen if depth == 0 => true,
                Token::RParen => {
                    depth -= 1;
                    false
                }
                Token::Comma => depth == 0,
                _ => false,
            });
            match next {
                Some(n) if tokens[significant[at + n]].token == Token::Comma => at += n + 1,
                _ => break,
            }
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use crate::engine::compat::parse::prepared;

    #[test]
    fn qualified_names_in_rename_are_quoted_whole() {
        assert_eq!(
            prepared("SELECT * RENAME (t.i AS a, j AS b, u.k AS c) FROM t"),
            "SELECT * RENAME (\"t.i\" AS a, j AS b, \"u.k\" AS c) FROM t"
        );
        assert_eq!(prepared("SELECT * RENAME t.i AS a FROM t"), "SELECT * RENAME \"t.i\" AS a FROM t");
    }

    #[test]
    fn star_patterns_are_columns_by_regex() {
        assert_eq!(prepared("SELECT * LIKE 'col%' FROM t"), "SELECT COLUMNS('^col.*$') FROM t");
        assert_eq!(prepared("SELECT * ILIKE 'a_b.c' FROM t"), "SELECT COLUMNS('(?i)^a.b\\.c$') FROM t");
        assert_eq!(prepared("SELECT * SIMILAR TO 'n\\d+' FROM t"), "SELECT COLUMNS('^(?:n\\d+)$') FROM t");
        assert_eq!(
            prepared("SELECT * NOT LIKE '\\_%' ESCAPE '\\' AS v FROM t"),
            "SELECT COLUMNS(__column -> ( __column NOT LIKE '\\_%' ESCAPE '\\')) AS v FROM t"
        );
        assert_eq!(
            prepared("SELECT t.* LIKE 'c%', u.* NOT LIKE 'c%' FROM t, u"),
            "SELECT COLUMNS('^c.*$', 't'), COLUMNS(__column -> ( __column NOT LIKE 'c%'), 'u') FROM t, u"
        );
        let kept = "SELECT x FROM t WHERE s LIKE 'a%'";
        assert_eq!(prepared(kept), kept);
    }

    #[test]
    fn one_star_replacement_gets_its_parentheses() {
        assert_eq!(prepared("SELECT * REPLACE i+100 AS i FROM t"), "SELECT * REPLACE (i+100 AS i) FROM t");
        assert_eq!(prepared("SELECT replace(s, 'a', 'b') FROM t"), "SELECT replace(s, 'a', 'b') FROM t");
    }

    #[test]
    fn star_except_is_star_exclude() {
        assert_eq!(prepared("SELECT * EXCEPT (i, j) FROM t"), "SELECT * EXCLUDE (i, j) FROM t");
        assert_eq!(prepared("SELECT t.* except i FROM t"), "SELECT t.* EXCLUDE i FROM t");
        let set_operation = "SELECT * FROM t EXCEPT SELECT * FROM u";
        assert_eq!(prepared(set_operation), set_operation);
    }
}
