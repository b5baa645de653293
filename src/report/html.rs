//! The report page: one self-contained HTML file (inline CSS and SVG, no script, no request).

use std::fmt::Write;

use serde_json::Value;

use super::format::{escape, human, number_of};
use super::spec::ChartKind;
use super::{PanelResult, Report, Table, charts};

const STYLE: &str = "
:root { color-scheme: light; --ink: #1d2733; --muted: #5b6775; --line: #dde3ea; --accent: #3b6ec4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink); background: #f5f7fa; }
header, main, footer { max-width: 960px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 28px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.period { color: var(--muted); margin: 0 0 18px; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 0 0 18px; break-inside: avoid; }
h2 { font-size: 18px; margin: 0 0 2px; }
.note { color: var(--muted); margin: 0 0 10px; font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .label { color: var(--muted); font-size: 13px; }
.figure .value { font-size: 22px; font-weight: 600; overflow-wrap: anywhere; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 6px 0 0; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.figure .change { font-size: 13px; }
.up { color: #2e7d4f; } .down { color: #b23b3b; } .flat { color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 10px; font-size: 13px; }
summary { cursor: pointer; color: var(--accent); }
pre { background: #f0f3f7; padding: 10px; overflow-x: auto; white-space: pre-wrap; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 28px; }
@media print {
  body { background: #fff; font-size: 12px; }
  section.panel { border: none; padding: 0; margin-bottom: 14px; }
  details { display: none; }
}
";

/// `active_users` → `Active users`.
fn column_title(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn figures(panel: &PanelResult) -> String {
    let Some(row) = panel.table.rows.first() else { return "<p class=\"empty\">No data in this period.</p>".into() };
    let previous = panel.previous.as_ref().and_then(|p| p.rows.first());
    let mut html = String::from("<div class=\"figures\">");
    for (i, column) in panel.table.columns.iter().enumerate() {
        let value = &row[i];
        let change = match (number_of(value), previous.and_then(|p| p.get(i)).and_then(number_of)) {
            (Some(now), Some(before)) if before != 0.0 => {
                let pct = (now - before) / before.abs() * 100.0;
                let class = if pct > 0.5 {
                    "up"
                } else if pct < -0.5 {
                    "down"
                } else {
                    "flat"
                };
                format!("<div class=\"change {class}\">{pct:+.1}% against the previous period</div>")
            }
            (Some(_), Some(_)) => "<div class=\"change flat\">nothing in the previous period</div>".into(),
            _ => String::new(),
        };
        let _ = write!(
            html,
            "<div class=\"figure\"><div class=\"label\">{}</div><div class=\"value\">{}</div>{change}</div>",
            escape(&column_title(column)),
            escape(&human(value))
        );
    }
    html.push_str("</div>");
    html
}

fn table(data: &Table) -> String {
    if data.rows.is_empty() {
        return "<p class=\"empty\">No rows in this period.</p>".into();
    }
    let numeric: Vec<bool> = (0..data.columns.len())
        .map(|c| data.rows.iter().all(|r| matches!(r[c], Value::Number(_) | Value::Null)))
        .collect();
    let class = |c: usize| if numeric[c] { " class=\"num\"" } else { "" };
    let mut html = String::from("<table><thead><tr>");
    for (c, column) in data.columns.iter().enumerate() {
        let _ = write!(html, "<th{}>{}</th>", class(c), escape(column));
    }
    html.push_str("</tr></thead><tbody>");
    for row in data.rows.iter().take(MAX_TABLE_ROWS) {
        html.push_str("<tr>");
        for (c, value) in row.iter().enumerate() {
            let _ = write!(html, "<td{}>{}</td>", class(c), escape(&human(value)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    if data.rows.len() > MAX_TABLE_ROWS {
        let _ = write!(
            html,
            "<p class=\"note\">The first {MAX_TABLE_ROWS} of {} rows; the data below has them all.</p>",
            data.rows.len()
        );
    }
    html
}

/// Rows a table panel shows (a page of a million rows would not open).
const MAX_TABLE_ROWS: usize = 1_000;

fn body(panel: &PanelResult) -> String {
    let title = &panel.panel.title;
    let data = &panel.table;
    if data.rows.is_empty() && panel.panel.chart != ChartKind::Figure {
        return "<p class=\"empty\">No rows in this period.</p>".into();
    }
    match panel.panel.chart {
        ChartKind::Figure => figures(panel),
        ChartKind::Table => table(data),
        ChartKind::Line => charts::line(title, data),
        ChartKind::Bar => charts::bar(title, data),
        ChartKind::StackedBar => charts::stacked_bar(title, data),
    }
}

/// The panel's answer exactly as `query --json` prints it, for checking and re-use; a data
/// block is inert (never run).
fn data_block(index: usize, panel: &PanelResult) -> String {
    let rows: Vec<Value> = panel
        .table
        .rows
        .iter()
        .map(|r| Value::Object(panel.table.columns.iter().cloned().zip(r.iter().cloned()).collect()))
        .collect();
    // `<` only occurs inside JSON strings, where `\u003c` means the same: no `</script>` or
    // `<!--` in the data can then end or hide the block.
    let json = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()).replace('<', "\\u003c");
    format!("<script type=\"application/json\" id=\"panel-{index}-data\">{json}</script>")
}

/// How every page starts: what marks an existing file as a report this tool wrote, which a new
/// one may replace.
pub(crate) const SIGNATURE: &str = "<!DOCTYPE html>\n<!-- carto-activity report -->\n";

pub(crate) fn render(report: &Report) -> String {
    let mut html = String::from(SIGNATURE);
    let title = escape(&report.title);
    let _ = write!(
        html,
        "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n\
         <p class=\"period\">{} to {} ({} days, UTC) · {}</p>\n</header>\n<main>\n",
        report.range.start,
        report.range.end,
        report.range.len_days(),
        escape(&report.source)
    );
    let command = escape(&format!(
        "carto-activity query --start-date {} --end-date {} --sql \"...\"",
        report.range.start, report.range.end
    ));
    for (i, panel) in report.panels.iter().enumerate() {
        let _ = write!(
            html,
            "<section class=\"panel\" id=\"panel-{i}\">\n<h2>{}</h2>\n{}{}\n\
             <details><summary>SQL</summary><pre>{}</pre><p class=\"note\">Re-run it with <code>{}</code>.</p></details>\n{}\n</section>\n",
            escape(&panel.panel.title),
            panel.panel.note.as_deref().map(|n| format!("<p class=\"note\">{}</p>\n", escape(n))).unwrap_or_default(),
            body(panel),
            escape(&panel.sql),
            command,
            data_block(i, panel)
        );
    }
    let _ = write!(
        html,
        "</main>\n<footer>Generated by carto-activity {} at {} from Activity Data; every figure comes from the SQL shown under its panel.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&report.generated_at)
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_get_titles() {
        assert_eq!(column_title("active_users"), "Active users");
    }
}
