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
        let spec: Spec = if is_json {
            serde_json::from_str(&text).map_err(|e| bad_spec(path, &e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| bad_spec(path, e.message()))?
        };
        if spec.panels.is_empty() && !spec.builtin {
            return Err(bad_spec(path, "it has no [[panel]] and `builtin = true` is not set"));
        }
        for (i, panel) in spec.panels.iter().enumerate() {
            if panel.title.trim().is_empty() {
                return Err(bad_spec(path, &format!("panel {} has an empty title", i + 1)));
            }
            if panel.sql.trim().is_empty() {
                return Err(bad_spec(path, &format!("panel '{}' has no SQL", panel.title)));
            }
        }
        Ok(spec)
    }

    /// Every panel to draw, built-in ones first.
    pub fn all_panels(&self) -> Vec<Panel> {
        let mut panels = if self.builtin { builtin_panels() } else { vec![] };
        panels.extend(self.panels.iter().cloned());
        panels
    }
}

fn bad_spec(path: &Path, why: &str) -> Error {
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    Error::Usage(format!(
        "the report spec {} is not valid: {why} (panels need title, sql and chart = line|bar|stacked_bar|table|figure)",
        path.display()
    ))
}

/// Events grouped into product families, for the stacked chart.
const FAMILY: &str = "CASE
    WHEN type LIKE 'Map%' OR type LIKE 'Basemap%' THEN 'Maps'
    WHEN type LIKE 'Workflow%' OR type LIKE 'ScheduledWorkflow%' THEN 'Workflows'
    WHEN type LIKE 'AI%' THEN 'AI'
    WHEN type LIKE 'User%' OR type LIKE 'Group%' THEN 'Users and groups'
    WHEN type LIKE 'Connection%' OR type LIKE 'Import%' OR type LIKE 'Export%'
      OR type LIKE 'DataExplorer%' OR type LIKE 'SqlApi%' THEN 'Data'
    ELSE 'Other'
  END";

fn panel(title: &str, chart: ChartKind, note: &str, sql: &str) -> Panel {
    Panel { title: title.into(), sql: sql.trim().into(), chart, note: (!note.is_empty()).then(|| note.into()) }
}

/// The adoption and quota report every organisation gets.
pub fn builtin_panels() -> Vec<Panel> {
    use ChartKind::*;
    vec![
        panel(
            "Headline",
            Figure,
            "Change against the previous period of the same length.",
            "
SELECT
  (SELECT count(*) FROM activity) AS events,
  (SELECT count(DISTINCT json_extract_string(data, '$.userId')) FROM activity) AS active_users,
  (SELECT count(*) FROM activity WHERE type = 'MapCreated') AS maps_created,
  (SELECT count(*) FROM activity WHERE type = 'WorkflowCreated') AS workflows_created,
  (SELECT coalesce(round(sum(amount * quota_usage_weight), 2), 0) FROM apiUsage) AS quota_used",
        ),
        panel(
            "Daily active users",
            Line,
            "Distinct users with at least one event each day (UTC).",
            "
SELECT CAST(ts AS DATE) AS day, count(DISTINCT json_extract_string(data, '$.userId')) AS active_users
FROM activity
GROUP BY 1
ORDER BY 1",
        ),
        panel(
            "Weekly active users",
            Bar,
            "Distinct users with at least one event each week (weeks start on Monday).",
            "
SELECT strftime(date_trunc('week', ts), '%Y-%m-%d') AS week,
       count(DISTINCT json_extract_string(data, '$.userId')) AS active_users
FROM activity
GROUP BY 1
ORDER BY 1",
        ),
        panel(
            "Events by family",
            StackedBar,
            "Every event of the day, grouped by the part of CARTO it comes from.",
            &format!(
                "
SELECT CAST(ts AS DATE) AS day, {FAMILY} AS family, count(*) AS events
FROM activity
GROUP BY 1, 2
ORDER BY 1, 2"
            ),
        ),
        panel(
            "Top maps",
            Table,
            "The maps with the most events (views, edits, shares).",
            "
SELECT json_extract_string(data, '$.mapId') AS map_id, count(*) AS events,
       count(DISTINCT json_extract_string(data, '$.userId')) AS users
FROM activity
WHERE json_extract_string(data, '$.mapId') IS NOT NULL
GROUP BY 1
ORDER BY events DESC, map_id
LIMIT 10",
        ),
        panel(
            "Top workflows",
            Table,
            "The workflows with the most events; runs counts WorkflowRun events.",
            "
SELECT json_extract_string(data, '$.workflowId') AS workflow_id, count(*) AS events,
       count(*) FILTER (WHERE type = 'WorkflowRun') AS runs
FROM activity
WHERE json_extract_string(data, '$.workflowId') IS NOT NULL
GROUP BY 1
ORDER BY events DESC, workflow_id
LIMIT 10",
        ),
        panel(
            "Top users",
            Bar,
            "The users with the most events.",
            "
SELECT coalesce(u.email, a.user_id) AS user, a.events
FROM (SELECT json_extract_string(data, '$.userId') AS user_id, count(*) AS events
      FROM activity
      WHERE json_extract_string(data, '$.userId') IS NOT NULL
      GROUP BY 1) a
LEFT JOIN userList u ON u.user_id = a.user_id
ORDER BY a.events DESC, user
LIMIT 10",
        ),
        panel(
            "Quota by user",
            Bar,
            "Quota units (amount × weight); public use has no user.",
            "
SELECT coalesce(u.email, q.user_id, '(public)') AS user,
       round(sum(q.amount * q.quota_usage_weight), 2) AS quota_units
FROM apiUsage q
LEFT JOIN userList u ON u.user_id = q.user_id
GROUP BY 1
ORDER BY quota_units DESC, user
LIMIT 10",
        ),
        panel(
            "Quota by metric",
            Bar,
            "",
            "
SELECT metric, round(sum(amount * quota_usage_weight), 2) AS quota_units
FROM apiUsage
GROUP BY 1
ORDER BY quota_units DESC, metric",
        ),
        panel(
            "New users",
            Table,
            "Accounts of the current user list created in the period.",
            "
SELECT email, role, strftime(created_at, '%Y-%m-%d') AS created
FROM userList
WHERE created_at >= TIMESTAMP '{start_date} 00:00:00'
  AND created_at < TIMESTAMP '{end_date} 00:00:00' + INTERVAL 1 DAY
ORDER BY created_at DESC, email",
        ),
        panel(
            "Users inactive in the period",
            Table,
            "Users who had an account by the end of the period and no event at all in it.",
            "
SELECT u.email, u.role, strftime(u.created_at, '%Y-%m-%d') AS created
FROM userList u
WHERE u.created_at < TIMESTAMP '{end_date} 00:00:00' + INTERVAL 1 DAY
  AND NOT EXISTS (SELECT 1 FROM activity a WHERE json_extract_string(a.data, '$.userId') = u.user_id)
ORDER BY u.created_at, u.email",
        ),
        panel(
            "AI usage",
            Line,
            "AI requests and the conversations they started, per day.",
            "
SELECT CAST(ts AS DATE) AS day, count(*) AS ai_requests,
       count(*) FILTER (WHERE json_extract_string(data, '$.isNewConversation') = 'true') AS new_conversations
FROM activity
WHERE type = 'AIRequest'
GROUP BY 1
ORDER BY 1",
        ),
    ]
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
        assert_eq!(toml.all_panels().len(), 1, "built-ins only on request");
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
