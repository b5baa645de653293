//! Charts as inline SVG, drawn with plotters: no script, no font file, no request when opened.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, SegmentValue, ValueFormatter};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use serde_json::Value;

use super::Table;
use super::format::{escape, label_of, number_of};

const WIDTH: u32 = 860;
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x3b, 0x6e, 0xc4),
    RGBColor(0xe0, 0x8a, 0x2c),
    RGBColor(0x3f, 0x9e, 0x6a),
    RGBColor(0xc8, 0x4a, 0x4a),
    RGBColor(0x8a, 0x63, 0xb8),
    RGBColor(0x8c, 0x6d, 0x46),
    RGBColor(0xd0, 0x6a, 0xb0),
    RGBColor(0x7a, 0x7a, 0x7a),
];
const FONT: &str = "sans-serif";

/// A chart draws at most this many lines or stacked series (the largest; the rest are summed
/// as "other"), x values and bars: past them a chart is unreadable, and drawing it would take
/// minutes. The panel's table (under "data") keeps every row.
const MAX_SERIES: usize = 12;
const MAX_POINTS: usize = 2_000;
const MAX_BARS: usize = 50;

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// The SVG of `draw` on a canvas of `height`, made to scale with the page.
fn svg(
    height: u32,
    title: &str,
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> String {
    let mut text = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        draw(root)
    };
    if let Err(e) = drawn {
        return format!("<p class=\"empty\">The chart could not be drawn: {}</p>", escape(&e.to_string()));
    }
    let opening = format!("<svg width=\"{WIDTH}\" height=\"{height}\"");
    text.replacen(&opening, &format!("<svg class=\"chart\" role=\"img\" aria-label=\"{}\"", escape(title)), 1)
}

fn nice_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max <= 0.0 { 1.0 } else { max * 1.08 }
}

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

fn axis_number(v: f64) -> String {
    if v.abs() >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

type Axes<'a, 'b, X> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, RangedCoordf64>>;

/// A white canvas with labels along the bottom, values up the left and light horizontal rules,
/// as the line and stacked charts draw them.
fn vertical_axes<'a, 'b, X>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    x: X,
    max: f64,
    x_labels: usize,
    x_label: &dyn Fn(&X::ValueType) -> String,
) -> Result<Axes<'a, 'b, X>, Box<dyn std::error::Error>>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    X::ValueType: std::fmt::Debug + Clone,
{
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .margin_right(36)
        .x_label_area_size(28)
        .y_label_area_size(52)
        .build_cartesian_2d(x, 0f64..max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(x_labels)
        .x_label_formatter(x_label)
        .y_label_formatter(&|v| axis_number(*v))
        .label_style((FONT, 12))
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    Ok(chart)
}

/// The first column on the x axis, each further numeric column a line.
pub(crate) fn line(title: &str, table: &Table) -> String {
    let rows = &table.rows[..table.rows.len().min(MAX_POINTS)];
    let labels: Vec<String> = rows.iter().map(|r| label_of(&r[0])).collect();
    let series: Vec<(String, Vec<f64>)> = (1..table.columns.len().min(MAX_SERIES + 1))
        .map(|c| (table.columns[c].clone(), rows.iter().map(|r| number_of(&r[c]).unwrap_or(0.0)).collect()))
        .collect();
    let max = nice_max(series.iter().flat_map(|(_, v)| v.iter().copied()));
    let n = labels.len().max(2);
    svg(300, title, |root| {
        let label = |i: &usize| labels.get(*i).map(|l| short(l, 12)).unwrap_or_default();
        let x: RangedCoordusize = (0usize..n - 1).into();
        let mut chart = vertical_axes(&root, x, max, labels.len().min(8), &label)?;
        for (i, (_, values)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(values.iter().enumerate().map(|(x, y)| (x, *y)), color.stroke_width(2)))?;
        }
        root.present()?;
        Ok(())
    }) + &legend(series.iter().map(|s| s.0.as_str()))
        + &left_out(table.rows.len(), MAX_POINTS, "x values")
        + &left_out(table.columns.len() - 1, MAX_SERIES, "lines")
}

/// A line under a chart that drew only the first `max` of `count` things.
fn left_out(count: usize, max: usize, what: &str) -> String {
    if count <= max {
        return String::new();
    }
    format!("<p class=\"note\">The chart shows the first {max} of {count} {what}; the data below has them all.</p>")
}

/// The series' names and colours, as HTML under the chart (so that text reflows and prints).
fn legend<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    if names.len() < 2 {
        return String::new();
    }
    let items: Vec<String> = names
        .enumerate()
        .map(|(i, name)| {
            let RGBColor(r, g, b) = PALETTE[i % PALETTE.len()];
            format!(
                "<li><span class=\"swatch\" style=\"background:#{r:02x}{g:02x}{b:02x}\"></span>{}</li>",
                escape(name)
            )
        })
        .collect();
    format!("<ul class=\"legend\">{}</ul>", items.join(""))
}

/// Horizontal bars: labels from the first column, lengths from the second.
pub(crate) fn bar(title: &str, table: &Table) -> String {
    let bars: Vec<(String, f64)> = table
        .rows
        .iter()
        .take(MAX_BARS)
        .map(|r| (label_of(&r[0]), r.get(1).and_then(number_of).unwrap_or(0.0)))
        .collect();
    let max = nice_max(bars.iter().map(|b| b.1));
    let n = bars.len();
    let height = (n as u32 * 26 + 50).max(120);
    svg(height, title, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(36)
            .x_label_area_size(26)
            .y_label_area_size(230)
            .build_cartesian_2d(0f64..max, (0..n.saturating_sub(1)).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                // The first row on top.
                SegmentValue::CenterOf(i) => {
                    n.checked_sub(i + 1).and_then(|k| bars.get(k)).map(|b| short(&b.0, 32)).unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_label_formatter(&|v| axis_number(*v))
            .label_style((FONT, 12))
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        chart.draw_series(
            Histogram::horizontal(&chart)
                .style(PALETTE[0].filled())
                .margin(5)
                .data(bars.iter().enumerate().map(|(i, b)| (n - 1 - i, b.1))),
        )?;
        root.present()?;
        Ok(())
    }) + &left_out(table.rows.len(), MAX_BARS, "bars")
}

/// Vertical bars per x, stacked by series: rows of (x, series, value).
pub(crate) fn stacked_bar(title: &str, table: &Table) -> String {
    // One pass: each x and series numbered in order of appearance, values summed per pair.
    let (mut xs, mut names): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let (mut x_index, mut name_index) = (HashMap::new(), HashMap::new());
    let mut sums: HashMap<(usize, usize), f64> = HashMap::new();
    for row in &table.rows {
        let (x, s) = (label_of(&row[0]), label_of(row.get(1).unwrap_or(&Value::Null)));
        let i = *x_index.entry(x.clone()).or_insert_with(|| {
            xs.push(x);
            xs.len() - 1
        });
        let k = *name_index.entry(s.clone()).or_insert_with(|| {
            names.push(s);
            names.len() - 1
        });
        *sums.entry((i, k)).or_default() += row.get(2).and_then(number_of).unwrap_or(0.0);
    }
    let (x_count, series_count) = (xs.len(), names.len());
    xs.truncate(MAX_POINTS);
    // The largest series by total, in their order of appearance; the others summed as one.
    let mut totals = vec![0.0; names.len()];
    for ((_, k), v) in &sums {
        totals[*k] += v;
    }
    let mut by_size: Vec<usize> = (0..names.len()).collect();
    by_size.sort_by(|a, b| totals[*b].total_cmp(&totals[*a]).then(a.cmp(b)));
    let kept = if names.len() > MAX_SERIES { MAX_SERIES - 1 } else { names.len() };
    let mut shown: Vec<usize> = by_size[..kept].to_vec();
    shown.sort();
    let mut slot = vec![kept; names.len()];
    for (position, k) in shown.iter().enumerate() {
        slot[*k] = position;
    }
    let mut names: Vec<String> = shown.iter().map(|k| names[*k].clone()).collect();
    if series_count > kept {
        names.push(format!("other ({})", series_count - kept));
    }
    let mut stacks: Vec<Vec<f64>> = vec![vec![0.0; names.len()]; xs.len()];
    for ((i, k), v) in sums {
        if let Some(stack) = stacks.get_mut(i) {
            stack[slot[k]] += v;
        }
    }
    let max = nice_max(stacks.iter().map(|s| s.iter().sum()));
    let n = xs.len().max(1);
    svg(340, title, |root| {
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => xs.get(*i).map(|l| short(l, 12)).unwrap_or_default(),
            _ => String::new(),
        };
        let x = (0..n.saturating_sub(1)).into_segmented();
        let mut chart = vertical_axes(&root, x, max, n.min(8), &label)?;
        for k in 0..names.len() {
            let color = PALETTE[k % PALETTE.len()];
            let rects = stacks.iter().enumerate().map(move |(i, stack)| {
                let below: f64 = stack[..k].iter().sum();
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), below), (SegmentValue::Exact(i + 1), below + stack[k])],
                    color.filled(),
                );
                bar.set_margin(0, 0, 2, 2);
                bar
            });
            chart.draw_series(rects)?;
        }
        root.present()?;
        Ok(())
    }) + &legend(names.iter().map(String::as_str))
        + &left_out(x_count, MAX_POINTS, "x values")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_charts_are_bounded() {
        let rows: Vec<Vec<Value>> = (0..3_000)
            .flat_map(|s| (0..5).map(move |x| vec![Value::from(x), Value::from(format!("s{s}")), Value::from(s)]))
            .collect();
        let table = Table { columns: vec!["x".into(), "series".into(), "n".into()], rows };
        let svg = stacked_bar("t", &table);
        assert!(svg.contains("other (2989)"), "the small series are summed as one");
        assert_eq!(svg.matches("<li>").count(), MAX_SERIES);
        let bars = Table {
            columns: vec!["label".into(), "n".into()],
            rows: (0..500).map(|i| vec![Value::from(format!("b{i}")), Value::from(i)]).collect(),
        };
        assert!(bar("t", &bars).contains("first 50 of 500 bars"));
    }
}
