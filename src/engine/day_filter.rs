//! Which days a statement can read, from its filters on `ts` as DataFusion's optimizer leaves
//! them: with `now()`, `current_date` and intervals folded into constants and each filter pushed
//! down to the scan it limits, every scan of `activity` and `apiUsage` (in CTEs and subqueries
//! too) has its conjuncts on `ts` turned into a union of intervals, then into days.

use chrono::{DateTime, NaiveDate};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::expr::{BinaryExpr, Cast, InList, ScalarFunction, TryCast};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, Operator};

use crate::category::Category;

/// Days as inclusive bounds; `None` is open (the first day the source has, or the last
/// complete one).
pub(crate) type DaySpan = (Option<NaiveDate>, Option<NaiveDate>);

/// What the scans of dated tables in a plan can read: the union of their spans, or `None` when
/// a scan reads every day (no usable lower bound on `ts`).
pub(crate) fn days_read(plan: &LogicalPlan) -> Option<Vec<DaySpan>> {
    let mut spans = Vec::new();
    let mut unbounded = false;
    let _ = plan.apply_with_subqueries(|node| {
        let (filter, scan) = match node {
            LogicalPlan::Filter(filter) => match dated_scan(&filter.input) {
                Some(scan) => (Some(&filter.predicate), scan),
                None => return Ok(TreeNodeRecursion::Continue),
            },
            LogicalPlan::TableScan(_) => match dated_scan(node) {
                // A scan read through a filter was counted there.
                Some(scan) if !filtered(plan, scan) => (None, scan),
                _ => return Ok(TreeNodeRecursion::Continue),
            },
            _ => return Ok(TreeNodeRecursion::Continue),
        };
        let LogicalPlan::TableScan(table) = scan else { return Ok(TreeNodeRecursion::Continue) };
        let mut conjuncts: Vec<&Expr> = table.filters.iter().collect();
        conjuncts.extend(filter.map(split_conjunction).unwrap_or_default());
        let micros = conjuncts.iter().fold(Intervals::all(), |set, c| set.and(&interval_of(c)));
        if micros.0.iter().any(|(lo, _)| lo.is_none()) {
            unbounded = true;
        }
        spans.extend(micros.days());
        Ok(TreeNodeRecursion::Continue)
    });
    (!unbounded).then_some(spans)
}

/// The scan of `activity` or `apiUsage` under `plan` (through aliases), if that is what it is.
fn dated_scan(plan: &LogicalPlan) -> Option<&LogicalPlan> {
    match plan {
        LogicalPlan::SubqueryAlias(alias) => dated_scan(&alias.input),
        LogicalPlan::TableScan(scan) => {
            let dated = Category::from_name(scan.table_name.table()).is_some_and(|c| !c.is_snapshot());
            dated.then_some(plan)
        }
        _ => None,
    }
}

/// Whether some filter of `plan` reads `scan` directly.
fn filtered(plan: &LogicalPlan, scan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Filter(filter) = node
            && dated_scan(&filter.input).is_some_and(|s| std::ptr::eq(s, scan))
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// A union of half-open intervals of microseconds, `None` for an open end.
#[derive(Debug, Clone, PartialEq)]
struct Intervals(Vec<(Option<i64>, Option<i64>)>);

impl Intervals {
    fn all() -> Intervals {
        Intervals(vec![(None, None)])
    }

    fn none() -> Intervals {
        Intervals(Vec::new())
    }

    fn and(&self, other: &Intervals) -> Intervals {
        let mut out = Vec::new();
        for (a_lo, a_hi) in &self.0 {
            for (b_lo, b_hi) in &other.0 {
                let lo = match (a_lo, b_lo) {
                    (Some(a), Some(b)) => Some(*a.max(b)),
                    (a, b) => a.or(*b),
                };
                let hi = match (a_hi, b_hi) {
                    (Some(a), Some(b)) => Some(*a.min(b)),
                    (a, b) => a.or(*b),
                };
                if lo.zip(hi).is_none_or(|(lo, hi)| lo < hi) {
                    out.push((lo, hi));
                }
            }
        }
        Intervals(out)
    }

    fn or(mut self, other: Intervals) -> Intervals {
        self.0.extend(other.0);
        self
    }

    /// The days the intervals touch.
    fn days(&self) -> Vec<DaySpan> {
        let day = |micros: i64| DateTime::from_timestamp_micros(micros).map(|t| t.date_naive());
        self.0.iter().map(|(lo, hi)| (lo.and_then(day), hi.and_then(|hi| day(hi - 1)))).collect()
    }
}

const DAY_MICROS: i64 = 86_400_000_000;

/// The times a conjunct lets through; everything when it does not limit `ts` in a way read here.
fn interval_of(expr: &Expr) -> Intervals {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => interval_of(left).and(&interval_of(right)),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => interval_of(left).or(interval_of(right)),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if let (Some(grain), Some(value)) = (ts_grain(left), constant(right)) {
                compared(grain, *op, value)
            } else if let (Some(value), Some(grain), Some(flipped)) = (constant(left), ts_grain(right), op.swap()) {
                compared(grain, flipped, value)
            } else {
                Intervals::all()
            }
        }
        Expr::Between(between) if !between.negated => {
            match (ts_grain(&between.expr), constant(&between.low), constant(&between.high)) {
                (Some(grain), Some(low), Some(high)) => {
                    compared(grain, Operator::GtEq, low).and(&compared(grain, Operator::LtEq, high))
                }
                _ => Intervals::all(),
            }
        }
        Expr::InList(InList { expr, list, negated: false }) => match ts_grain(expr) {
            Some(grain) => {
                let values: Option<Vec<i64>> = list.iter().map(constant).collect();
                values.map_or_else(Intervals::all, |values| {
                    values.into_iter().fold(Intervals::none(), |set, v| set.or(compared(grain, Operator::Eq, v)))
                })
            }
            None => Intervals::all(),
        },
        _ => Intervals::all(),
    }
}

/// `ts` itself (a grain of one microsecond), or `ts` cut to days (`CAST(ts AS DATE)`,
/// `date_trunc('day', ts)`): the grain in microseconds.
fn ts_grain(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Column(column) if column.name == "ts" => Some(1),
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => match field.data_type() {
            DataType::Date32 | DataType::Date64 => ts_grain(expr).map(|_| DAY_MICROS),
            DataType::Timestamp(..) => ts_grain(expr),
            _ => None,
        },
        Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == "date_trunc" => match args.as_slice() {
            [Expr::Literal(ScalarValue::Utf8(Some(unit)) | ScalarValue::Utf8View(Some(unit)), _), inner]
                if matches!(unit.to_ascii_lowercase().as_str(), "day" | "days" | "d") =>
            {
                ts_grain(inner).map(|_| DAY_MICROS)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A constant point in time, in microseconds since the epoch (UTC).
fn constant(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else { return None };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000)),
        ScalarValue::Date32(Some(days)) => i64::from(*days).checked_mul(DAY_MICROS),
        ScalarValue::Date64(Some(millis)) => millis.checked_mul(1_000),
        _ => None,
    }
}

/// The times `ts` cut to `grain` can have for `ts_cut <op> value` (value at that grain).
fn compared(grain: i64, op: Operator, value: i64) -> Intervals {
    // The first instant whose cut is above `value`, and the first whose cut is at least it.
    let next = value.div_euclid(grain) * grain + grain;
    let first = if value.rem_euclid(grain) == 0 { value } else { next };
    Intervals(vec![match op {
        Operator::Eq if value.rem_euclid(grain) == 0 => (Some(value), Some(value + grain)),
        Operator::Eq => return Intervals::none(),
        Operator::Gt => (Some(next), None),
        Operator::GtEq => (Some(first), None),
        Operator::Lt => (None, Some(first)),
        Operator::LtEq => (None, Some(next)),
        _ => return Intervals::all(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn micros(text: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn bounds_on_ts_become_days() {
        let at = |t: &str| micros(t);
        let ts = compared(1, Operator::GtEq, at("2025-10-01 00:00:00")).and(&compared(
            1,
            Operator::Lt,
            at("2025-10-08 00:00:00"),
        ));
        assert_eq!(ts.days(), vec![(Some(day("2025-10-01")), Some(day("2025-10-07")))]);
        let dated = compared(DAY_MICROS, Operator::Eq, at("2025-10-03 00:00:00"));
        assert_eq!(dated.days(), vec![(Some(day("2025-10-03")), Some(day("2025-10-03")))]);
        let after = compared(DAY_MICROS, Operator::Gt, at("2025-10-03 00:00:00"));
        assert_eq!(after.days(), vec![(Some(day("2025-10-04")), None)]);
        let either = dated.or(compared(1, Operator::LtEq, at("2025-09-01 10:00:00")));
        assert_eq!(either.days()[1], (None, Some(day("2025-09-01"))));
        assert!(
            compared(1, Operator::GtEq, at("2025-10-05 00:00:00"))
                .and(&compared(1, Operator::Lt, at("2025-10-01 00:00:00")))
                .0
                .is_empty()
        );
    }
}
