//! What a report shows: panels (a title, SQL, a chart kind), the built-in set, and custom specs
//! read from TOML or JSON files.

use std::path::Path;

use datafusion::arrow::datatypes::DataType;
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// The first column on the x axis, every other (numeric) column a line.
    Line,
    /// Horizontal bars: a label column, then a numeric column.
    Bar,
    /// Bars stacked by series: x, series, value (one row per x and series).
    StackedBar,
    /// The rows as they come.
    Table,
    /// Each column of the first row as a headline number, with the change against the
    /// previous period of the same length.
    Figure,
}

impl ChartKind {
    /// Whether a result of these columns can be drawn as this chart; if not, what it needs.
    pub(crate) fn check_columns(self, columns: &[(String, DataType)]) -> std::result::Result<(), String> {
        let (needs, numbers): (usize, std::ops::Range<usize>) = match self {
            ChartKind::Table | ChartKind::Figure => (1, 0..0),
            ChartKind::Line => (2, 1..columns.len()),
            ChartKind::Bar => (2, 1..2),
            ChartKind::StackedBar => (3, 2..3),
        };
        let form = match self {
            ChartKind::Line => "a line chart takes the x values, then one or more columns of numbers",
            ChartKind::Bar => "a bar chart takes a label column, then a column of numbers",
            ChartKind::StackedBar => "a stacked_bar chart takes x, series and a column of numbers",
            ChartKind::Table | ChartKind::Figure => "it takes at least one column",
        };
        if columns.len() < needs {
            return Err(format!("{form}; the SQL gives {} column(s)", columns.len()));
        }
        for (name, data_type) in &columns[numbers] {
            if !(data_type.is_numeric() || matches!(data_type, DataType::Null)) {
                return Err(format!("{form}; column '{name}' is {}", crate::engine::sql_type_name(data_type)));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    pub title: String,
    pub sql: String,
    pub chart: ChartKind,
    /// A sentence under the title, saying how to read the panel.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The page's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether the built-in panels come first.
    #[serde(default)]
    pub builtin: bool,
    #[serde(default, rename = "panel")]
    pub panels: Vec<Panel>,
}

impl Spec {
    /// The built-in report.
    pub fn builtin() -> Spec {
        Spec { title: None, builtin: true, panels: vec![] }
    }

    /// Reads a spec: JSON when the file ends in `.json`, TOML otherwise.
    pub async fn load(path: &Path) -> Result<Spec> {
        let text = crate::input::read_file_async(path, "the report spec", crate::input::MAX_TEXT_BYTES).await?;
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Spec::parse(&text, is_json, &path.display().to_string())
    }

    fn parse(text: &str, is_json: bool, origin: &str) -> Result<Spec> {
        let spec: Spec = if is_json {
            serde_json::from_str(text).map_err(|e| bad_spec(origin, &e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| bad_spec(origin, e.message()))?
        };
        if spec.panels.is_empty() && !spec.builtin {
            return Err(bad_spec(origin, "it has no [[panel]] and `builtin = true` is not set"));
        }
        for (i, panel) in spec.panels.iter().enumerate() {
            if panel.title.trim().is_empty() {
                return Err(bad_spec(origin, &format!("panel {} has an empty title", i + 1)));
            }
            if panel.sql.trim().is_empty() {
                return Err(bad_spec(origin, &format!("panel '{}' has no SQL", panel.title)));
            }
        }
        Ok(spec)
    }

    /// Every panel to draw, built-in ones first.
    pub fn all_panels(&self) -> Result<Vec<Panel>> {
        let mut panels = if self.builtin { builtin_panels()? } else { vec![] };
        panels.extend(self.panels.iter().cloned());
        Ok(panels)
    }
}

/// The adoption and quota report every organisation gets: data, read by the same parser as a
/// user's spec.
fn builtin_panels() -> Result<Vec<Panel>> {
    Spec::parse(include_str!("builtin.toml"), false, "builtin.toml")
        .map(|spec| spec.panels)
        .map_err(|e| Error::Internal(format!("the built-in report: {e}")))
}

fn bad_spec(origin: &str, why: &str) -> Error {
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    Error::Usage(format!(
        "the report spec {origin} is not valid: {why} (panels need title, sql and chart = line|bar|stacked_bar|table|figure)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<Spec> {
        Spec::parse(text, name.ends_with(".json"), name)
    }

    #[test]
    fn toml_and_json_specs_read_alike() {
        let toml = load(
            "s.toml",
            "title = \"Team\"\n[[panel]]\ntitle = \"Runs\"\nsql = \"SELECT 1 AS n\"\nchart = \"figure\"\n",
        )
        .unwrap();
        let json = load(
            "s.json",
            r#"{"title": "Team", "panel": [{"title": "Runs", "sql": "SELECT 1 AS n", "chart": "figure"}]}"#,
        )
        .unwrap();
        assert_eq!(toml.panels.len(), 1);
        assert_eq!(json.panels[0].chart, ChartKind::Figure);
        assert_eq!(toml.all_panels().unwrap().len(), 1, "built-ins only on request");
    }

    #[test]
    fn the_builtin_report_is_a_valid_spec_of_valid_sql() {
        let panels = Spec::builtin().all_panels().unwrap();
        assert_eq!(panels.len(), 12);
        assert_eq!(panels[0].chart, ChartKind::Figure);
        for panel in &panels {
            let sql = panel.sql.replace("{start_date}", "2025-10-01").replace("{end_date}", "2025-10-07");
            assert_eq!(crate::engine::Prepared::new(&sql).unwrap().statements.len(), 1, "{}", panel.title);
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let unknown_chart = load("s.toml", "[[panel]]\ntitle = \"x\"\nsql = \"SELECT 1\"\nchart = \"pie\"\n");
        assert!(unknown_chart.unwrap_err().to_string().contains("pie"));
        let empty = load("s.toml", "title = \"nothing\"\n").unwrap_err().to_string();
        assert!(empty.contains("no [[panel]]"), "{empty}");
        let no_sql = load("s.json", r#"{"panel": [{"title": "t", "sql": " ", "chart": "table"}]}"#);
        assert!(no_sql.unwrap_err().to_string().contains("panel 't' has no SQL"));
        let typo = load("s.toml", "[[panel]]\ntitle = \"x\"\nsql = \"SELECT 1\"\nchart = \"bar\"\nsqll = 1\n");
        assert!(typo.unwrap_err().to_string().contains("sqll"));
    }
}
