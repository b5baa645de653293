//! Typed expressions of the generated queries: columns, JSON paths, operators, functions and
//! literals, nested to a depth.

use rand::Rng;

use super::grammar::Generator;
use super::tables::{Table, Ty};

impl Generator {
    pub(super) fn column(&mut self, table: &Table, ty: Ty) -> Option<String> {
        let matching: Vec<&str> = table.columns.iter().filter(|(t, _)| *t == ty).map(|(_, c)| *c).collect();
        (!matching.is_empty()).then(|| self.pick(&matching).to_string())
    }

    /// An expression of type `ty` over `table`'s columns, `depth` levels of calls deep at most.
    pub(super) fn expr(&mut self, table: &Table, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.chance(0.3) {
            if let Some(column) = self.column(table, ty) {
                return column;
            }
            if depth == 0 {
                return self.literal(ty);
            }
        }
        let d = depth.saturating_sub(1);
        match ty {
            Ty::Text => match self.rng.random_range(0..18) {
                16 => format!("({}).lower()", self.expr(table, Ty::Text, d)),
                0 => format!("lower({})", self.expr(table, Ty::Text, d)),
                1 => format!("upper({})", self.expr(table, Ty::Text, d)),
                2 => format!("concat({}, '-', {})", self.expr(table, Ty::Text, d), self.expr(table, Ty::Text, d)),
                3 => format!("({} || '!')", self.expr(table, Ty::Text, d)),
                4 => format!(
                    "substr({}, {}, {})",
                    self.expr(table, Ty::Text, d),
                    self.small().max(1),
                    self.small().max(0)
                ),
                5 => format!("left({}, {})", self.expr(table, Ty::Text, d), self.small().max(0)),
                6 => format!("replace({}, 'a', 'o')", self.expr(table, Ty::Text, d)),
                7 => format!("split_part({}, '|', 2)", self.expr(table, Ty::Text, d)),
                8 => format!("coalesce({}, 'none')", self.expr(table, Ty::Text, d)),
                9 => format!(
                    "CASE WHEN {} THEN {} ELSE {} END",
                    self.expr(table, Ty::Bool, d),
                    self.expr(table, Ty::Text, d),
                    self.expr(table, Ty::Text, d)
                ),
                10 => {
                    let format = *self.pick(&["%Y-%m", "%Y-%m-%d %H:00", "%A", "%j", "%d/%m/%Y"]);
                    format!("strftime({}, '{format}')", self.expr(table, Ty::Ts, d))
                }
                11 => format!("dayname({})", self.expr(table, Ty::Ts, d)),
                12 => format!("regexp_replace({}, '[0-9]+', '#')", self.expr(table, Ty::Text, d)),
                13 => format!("regexp_extract({}, '([a-z]+)', 1)", self.expr(table, Ty::Text, d)),
                14 => format!("CAST({} AS VARCHAR)", self.expr(table, Ty::Int, d)),
                15 => format!("lpad({}, {}, '*')", self.expr(table, Ty::Text, d), self.small()),
                _ => format!("trim({})", self.expr(table, Ty::Text, d)),
            },
            Ty::Int => match self.rng.random_range(0..14) {
                0 => format!("length({})", self.expr(table, Ty::Text, d)),
                1 => format!("strpos({}, 'a')", self.expr(table, Ty::Text, d)),
                2 => format!("year({})", self.expr(table, Ty::Ts, d)),
                3 => format!("hour({})", self.expr(table, Ty::Ts, d)),
                4 => format!("dayofweek({})", self.expr(table, Ty::Ts, d)),
                5 => format!("date_part('day', {})", self.expr(table, Ty::Ts, d)),
                6 => format!(
                    "date_diff('{}', {}, {})",
                    self.pick(&["day", "hour", "month", "week", "year"]),
                    self.expr(table, Ty::Ts, d),
                    self.expr(table, Ty::Ts, d)
                ),
                7 => format!("abs({})", self.expr(table, Ty::Int, d)),
                8 => format!("({} % 7)", self.expr(table, Ty::Int, d)),
                9 => format!("({} + {})", self.expr(table, Ty::Int, d), self.small()),
                10 => format!("({} * 2)", self.expr(table, Ty::Int, d)),
                11 => format!("CAST({} AS INTEGER)", self.expr(table, Ty::Num, d)),
                12 => format!("greatest({}, {})", self.expr(table, Ty::Int, d), self.small()),
                _ => format!("({} // 3)", self.expr(table, Ty::Int, d)),
            },
            Ty::Num => match self.rng.random_range(0..9) {
                0 => format!("({} * 1.5)", self.expr(table, Ty::Num, d)),
                1 => format!("({} / 4)", self.expr(table, Ty::Num, d)),
                2 => format!("round({}, 2)", self.expr(table, Ty::Num, d)),
                3 => format!("floor({})", self.expr(table, Ty::Num, d)),
                4 => format!("ceil({})", self.expr(table, Ty::Num, d)),
                5 => format!("sqrt(abs({}))", self.expr(table, Ty::Num, d)),
                6 => format!("CAST({} AS DOUBLE)", self.expr(table, Ty::Int, d)),
                7 => format!("({} - 0.25)", self.expr(table, Ty::Num, d)),
                _ => format!("ln(1 + abs({}))", self.expr(table, Ty::Num, d)),
            },
            Ty::Bool => match self.rng.random_range(0..13) {
                0 => format!("{} = {}", self.expr(table, Ty::Text, d), self.text_literal()),
                1 => format!("{} LIKE '%{}%'", self.expr(table, Ty::Text, d), self.pick(&["a", "Map", "_", "e"])),
                2 => format!("{} ILIKE '{}%'", self.expr(table, Ty::Text, d), self.pick(&["map", "w", "auth0", "v"])),
                3 => format!("{} IS NULL", self.expr(table, Ty::Text, d)),
                4 => format!("{} IS NOT NULL", self.expr(table, Ty::Text, d)),
                5 => format!("{} > {}", self.expr(table, Ty::Int, d), self.small()),
                6 => format!("{} BETWEEN 1 AND 500", self.expr(table, Ty::Num, d)),
                7 => format!(
                    "{} IN ('Viewer', 'Editor', 'maps_api_requests', 'MapCreated')",
                    self.expr(table, Ty::Text, d)
                ),
                8 => format!("starts_with({}, 'M')", self.expr(table, Ty::Text, d)),
                9 => format!("contains({}, 'e')", self.expr(table, Ty::Text, d)),
                10 => format!("regexp_matches({}, '^[A-M]')", self.expr(table, Ty::Text, d)),
                11 => format!("NOT ({})", self.expr(table, Ty::Bool, d)),
                _ => format!(
                    "({} {} {})",
                    self.expr(table, Ty::Bool, d),
                    self.pick(&["AND", "OR"]),
                    self.expr(table, Ty::Bool, d)
                ),
            },
            Ty::Ts => match self.rng.random_range(0..5) {
                3 => format!("({} + INTERVAL 90 MINUTE * {})", self.expr(table, Ty::Ts, d), self.small()),
                0 => format!(
                    "date_trunc('{}', {})",
                    self.pick(&["hour", "day", "week", "month"]),
                    self.expr(table, Ty::Ts, d)
                ),
                1 => format!("({} + INTERVAL 1 DAY)", self.expr(table, Ty::Ts, d)),
                2 => format!("({} - INTERVAL '2 hours')", self.expr(table, Ty::Ts, d)),
                _ => format!("({} + INTERVAL '{} days')", self.expr(table, Ty::Ts, d), self.small()),
            },
            Ty::Date => match self.rng.random_range(0..3) {
                0 => format!("CAST({} AS DATE)", self.expr(table, Ty::Ts, d)),
                1 => format!("{}::DATE", self.expr(table, Ty::Ts, d)),
                _ => format!("last_day(CAST({} AS DATE))", self.expr(table, Ty::Ts, d)),
            },
        }
    }

    pub(super) fn literal(&mut self, ty: Ty) -> String {
        match ty {
            Ty::Text => self.text_literal(),
            Ty::Int => self.small().to_string(),
            Ty::Num => self.pick(&["2.5", "-0.75", "1e3", "0.0"]).to_string(),
            Ty::Bool => self.pick(&["true", "false", "NULL::BOOLEAN"]).to_string(),
            Ty::Ts => "TIMESTAMPTZ '2025-10-02 12:00:00+00'".into(),
            Ty::Date => "DATE '2024-02-29'".into(),
        }
    }

    pub(super) fn text_literal(&mut self) -> String {
        self.pick(&["'Viewer'", "'Admin'", "'MapCreated'", "'lds_geocoding'", "''", "'ñandú'", "'builder'"]).to_string()
    }

    pub(super) fn any_type(&mut self) -> Ty {
        *self.pick(&[Ty::Text, Ty::Text, Ty::Int, Ty::Num, Ty::Bool, Ty::Ts, Ty::Date])
    }
}
