//! What a report shows: panels (a title, SQL, a chart kind), the built-in set, and custom specs
//! read from TOML or JSON files.

use std::path::Path;

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
    pub fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path).map_err(Error::io("cannot read the report spec", path))?;
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Spec::load(&path)
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
            assert_eq!(crate::engine::compat::prepare(&sql).unwrap().len(), 1, "{}", panel.title);
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
