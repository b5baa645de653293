//! TAB completion that knows the data: SQL keywords, tables, columns and functions, and, where
//! a value is being typed, the range's event types (after `type =`, `type IN (`, `type LIKE`)
//! and their payloads' JSON keys (inside `data->>'`, `data->'`, `json_extract_string(data, '$.`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use reedline::{Completer, CompletionResult, Span, Suggestion};
use regex::Regex;

use super::dot::COMMANDS;
use super::statements::inside_text;
use crate::category::Category;
use crate::engine::Engine;
use crate::engine::explore::{EVENT_TYPES_SQL, payload_keys};
use crate::shred::shredded_paths;

/// Payloads read for a key completion of one type: enough to see its every key, bounded in time.
const KEY_SAMPLE: usize = 2_000;
/// Payloads read of each type when the statement names none: the rarest types' keys are found.
const KEY_SAMPLE_PER_TYPE: usize = 50;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "QUALIFY",
    "LIMIT",
    "OFFSET",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "ON",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "SEMI",
    "ANTI",
    "USING",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "ALL",
    "WITH",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "OVER",
    "PARTITION",
    "ROWS",
    "RANGE",
    "PRECEDING",
    "FOLLOWING",
    "UNBOUNDED",
    "CURRENT",
    "ROW",
    "WINDOW",
    "FILTER",
    "CAST",
    "TRY_CAST",
    "INTERVAL",
    "EXISTS",
    "TRUE",
    "FALSE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "EXPLAIN",
    "UNNEST",
    "VALUES",
    "DATE",
    "TIMESTAMP",
    "VARCHAR",
    "BIGINT",
    "INTEGER",
    "DOUBLE",
    "BOOLEAN",
    "JSON",
    "DAY",
    "WEEK",
    "MONTH",
    "YEAR",
    "HOUR",
    "MINUTE",
];

/// What completion draws on; shared between the shell (which changes the range) and the editor.
pub(super) struct Vocabulary {
    engine: Option<Arc<Engine>>,
    runtime: tokio::runtime::Handle,
    functions: Vec<String>,
    /// Filled on first need for the current engine.
    event_types: Option<Vec<String>>,
    keys: HashMap<Option<String>, Vec<String>>,
}

impl Vocabulary {
    pub(super) fn new(runtime: tokio::runtime::Handle) -> Vocabulary {
        Vocabulary { engine: None, runtime, functions: Vec::new(), event_types: None, keys: HashMap::new() }
    }

    /// A new engine (another range or more tables): what was learnt of the last one is dropped.
    pub(super) fn set_engine(&mut self, engine: Arc<Engine>) {
        self.functions = engine.function_names();
        self.engine = Some(engine);
        self.event_types = None;
        self.keys.clear();
    }

    fn event_types(&mut self) -> Vec<String> {
        if self.event_types.is_none() {
            let answer = self.engine.clone().and_then(|engine| {
                let sql = EVENT_TYPES_SQL;
                self.runtime.block_on(async move { engine.first_column_texts(sql).await.ok() })
            });
            self.event_types = answer;
        }
        self.event_types.clone().unwrap_or_default()
    }

    /// Key paths of `event_type`'s payloads (of all when `None`), the shredded ones first.
    fn key_paths(&mut self, event_type: Option<String>) -> Vec<String> {
        if !self.keys.contains_key(&event_type) {
            let mut paths: Vec<String> = shredded_paths().collect();
            if let Some(engine) = self.engine.clone() {
                let wanted = event_type.clone();
                let sample = if wanted.is_some() { KEY_SAMPLE } else { KEY_SAMPLE_PER_TYPE };
                let sampled = self
                    .runtime
                    .block_on(async move { payload_keys(&engine, wanted.as_deref(), Some(sample)).await.ok() });
                match sampled {
                    // The sample of one type has the last word: a shredded path it lacks is not offered.
                    Some(found) if event_type.is_some() => paths = found.keys.into_iter().map(|k| k.path).collect(),
                    Some(found) => paths.extend(found.keys.into_iter().map(|k| k.path)),
                    None => {}
                }
            }
            let mut seen = std::collections::HashSet::new();
            paths.retain(|p| seen.insert(p.clone()));
            self.keys.insert(event_type.clone(), paths);
        }
        self.keys[&event_type].clone()
    }
}

/// The editor's completer: [`suggest`] over the shared [`Vocabulary`].
pub(super) struct SqlCompleter(pub(super) Arc<Mutex<Vocabulary>>);

impl Completer for SqlCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        let Ok(mut vocabulary) = self.0.lock() else { return CompletionResult::fresh(Vec::new()) };
        let pos = pos.min(line.len());
        let (start, values) = suggest(line, pos, &mut *vocabulary);
        let suggestions: Vec<Suggestion> = values
            .into_iter()
            .map(|value| Suggestion { value, span: Span::new(start, pos), ..Suggestion::default() })
            .collect();
        CompletionResult::fresh(suggestions)
    }
}

/// Where the data for completion comes from; a trait so that the rules are tested without an engine.
pub(super) trait Words {
    fn functions(&mut self) -> Vec<String>;
    fn event_types(&mut self) -> Vec<String>;
    fn key_paths(&mut self, event_type: Option<String>) -> Vec<String>;
}

impl Words for Vocabulary {
    fn functions(&mut self) -> Vec<String> {
        self.functions.clone()
    }
    fn event_types(&mut self) -> Vec<String> {
        Vocabulary::event_types(self)
    }
    fn key_paths(&mut self, event_type: Option<String>) -> Vec<String> {
        Vocabulary::key_paths(self, event_type)
    }
}

static TYPE_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\btype\s*(?:=|<>|!=|\s(?:not\s+)?i?like|\s(?:not\s+)?in\s*\((?:\s*'[^']*'\s*,)*)\s*('[^']*|)$")
        .expect("a valid pattern")
});
static JSON_ARGUMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:\bdata\s*->>?\s*|\bjson_[a-z_]+\s*\(\s*(?:[a-z_]+\.)?"?data"?\s*,\s*)'([^']*)$"#)
        .expect("a valid pattern")
});
static TYPE_FILTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\btype\s*=\s*'((?:[^']|'')*)'").expect("a valid pattern"));

/// The suggestions at `pos` of `line`, and where the text they replace starts.
pub(super) fn suggest(line: &str, pos: usize, words: &mut impl Words) -> (usize, Vec<String>) {
    let before = &line[..pos];
    if let Some(command) = before.trim_start().strip_prefix('.').filter(|c| !c.contains(char::is_whitespace)) {
        let start = pos - command.len() - 1;
        let found = COMMANDS.iter().filter(|c| c.starts_with(command)).map(|c| format!(".{c}")).collect();
        return (start, found);
    }
    if let Some(partial) = TYPE_VALUE.captures(before).and_then(|c| c.get(1)) {
        let typed = partial.as_str().trim_start_matches('\'').to_lowercase();
        let found = words
            .event_types()
            .into_iter()
            .filter(|t| t.to_lowercase().starts_with(&typed))
            .map(|t| format!("'{}'", t.replace('\'', "''")))
            .collect();
        return (partial.start(), found);
    }
    if let Some(partial) = JSON_ARGUMENT.captures(before).and_then(|c| c.get(1)) {
        let event_type = TYPE_FILTER.captures(line).map(|c| c[1].replace("''", "'"));
        let typed = partial.as_str();
        let paths = words.key_paths(event_type);
        let found = match typed.strip_prefix("$.") {
            Some(rest) => paths.iter().filter(|p| p.starts_with(rest)).map(|p| format!("$.{p}'")).collect(),
            None if typed == "$" => paths.iter().map(|p| format!("$.{p}'")).collect(),
            None => {
                paths.iter().filter(|p| !p.contains('.') && p.starts_with(typed)).map(|p| format!("{p}'")).collect()
            }
        };
        return (partial.start(), found);
    }
    if inside_text(before) {
        return (pos, Vec::new());
    }
    let word_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let word = &before[word_start..];
    if word.is_empty() {
        return (pos, Vec::new());
    }
    let lower = word.to_lowercase();
    let matches = |candidate: &str| candidate.to_lowercase().starts_with(&lower) && candidate.len() > word.len();
    let mut found: Vec<String> = Vec::new();
    let after_dot = before[..word_start].ends_with('.');
    for category in Category::ALL {
        if !after_dot && matches(category.name()) {
            found.push(category.name().to_string());
        }
        found.extend(category.schema().fields().iter().map(|f| f.name().clone()).filter(|n| matches(n)));
    }
    if !after_dot {
        let upper = word.chars().any(char::is_uppercase);
        found.extend(
            KEYWORDS.iter().filter(|k| matches(k)).map(|k| if upper { k.to_string() } else { k.to_lowercase() }),
        );
        found.extend(words.functions().into_iter().filter(|f| matches(f)));
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| seen.insert(f.to_lowercase()));
    (word_start, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fixed {
        asked_for: Vec<Option<String>>,
    }

    impl Words for Fixed {
        fn functions(&mut self) -> Vec<String> {
            vec!["date_trunc".into(), "json_extract_string".into(), "count".into()]
        }
        fn event_types(&mut self) -> Vec<String> {
            vec!["MapViewed".into(), "MapCreated".into(), "WorkflowRun".into(), "it's".into()]
        }
        fn key_paths(&mut self, event_type: Option<String>) -> Vec<String> {
            self.asked_for.push(event_type);
            vec!["userId".into(), "map".into(), "map.id".into(), "map.title".into(), "loadTimeMs".into()]
        }
    }

    fn at_end(line: &str) -> Vec<String> {
        let (start, found) = suggest(line, line.len(), &mut Fixed::default());
        found.into_iter().map(|f| format!("{}{f}", &line[..start])).collect()
    }

    #[test]
    fn words_complete_tables_columns_keywords_and_functions() {
        assert_eq!(at_end("SELECT * FROM acti"), ["SELECT * FROM activity"]);
        assert_eq!(at_end("select * from APIU"), ["select * from apiUsage"], "any case");
        assert_eq!(at_end("SELECT quota_"), ["SELECT quota_usage_weight"]);
        assert_eq!(at_end("SELECT date_t"), ["SELECT date_trunc"]);
        assert_eq!(at_end("SELECT 1 orde"), ["SELECT 1 order"], "lower case stays lower case");
        assert_eq!(at_end("SELECT 1 ORDE"), ["SELECT 1 ORDER"]);
        assert_eq!(at_end("SELECT u.quota"), ["SELECT u.quota_usage_weight"], "after a dot, columns only");
        assert!(at_end("SELECT u.acti").is_empty(), "after a dot, no tables");
        assert!(at_end("SELECT ").is_empty());
        assert!(at_end("SELECT 'acti").is_empty(), "nothing inside a string");
    }

    #[test]
    fn event_types_complete_as_quoted_literals() {
        assert_eq!(
            at_end("SELECT * FROM activity WHERE type = 'Map"),
            ["SELECT * FROM activity WHERE type = 'MapViewed'", "SELECT * FROM activity WHERE type = 'MapCreated'"]
        );
        let unquoted = at_end("SELECT 1 WHERE type = w");
        assert!(!unquoted.iter().any(|s| s.contains("WorkflowRun")), "an unquoted word is not a literal: {unquoted:?}");
        assert_eq!(at_end("WHERE a.type IN ('MapViewed', 'w"), ["WHERE a.type IN ('MapViewed', 'WorkflowRun'"]);
        assert_eq!(at_end("WHERE type LIKE 'it"), ["WHERE type LIKE 'it''s'"]);
        assert_eq!(at_end("WHERE type = ").len(), 4, "every type after `=`");
    }

    #[test]
    fn json_keys_complete_inside_the_path_argument() {
        let line = "SELECT data->>'lo";
        assert_eq!(at_end(line), ["SELECT data->>'loadTimeMs'"]);
        assert_eq!(at_end("SELECT data->'ma"), ["SELECT data->'map'"], "top-level keys without `$.`");
        assert_eq!(
            at_end("SELECT json_extract_string(data, '$.map."),
            ["SELECT json_extract_string(data, '$.map.id'", "SELECT json_extract_string(data, '$.map.title'"]
        );
        assert_eq!(at_end("SELECT json_extract(a.data, '$").len(), 5);
        let mut words = Fixed::default();
        let line = "SELECT data->>'u FROM activity WHERE type = 'MapViewed'";
        suggest(line, "SELECT data->>'u".len(), &mut words);
        assert_eq!(words.asked_for, [Some("MapViewed".to_string())], "the statement's event type is sampled");
    }

    #[test]
    fn dot_commands_complete() {
        assert_eq!(at_end(".ta"), [".tables"]);
        assert_eq!(at_end(".m"), [".mode", ".maxrows"]);
    }
}
