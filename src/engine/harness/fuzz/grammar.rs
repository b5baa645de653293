//! Random queries in DuckDB's dialect over the four tables, from a seed: typed expressions over
//! columns and JSON paths, and the query shapes admins write (filters, grouping, windows, joins,
//! set operations, subqueries, CTEs, UNNEST, literals of lists and structs).
//!
//! Only answers DuckDB itself fixes are generated: no LIMIT without a total order, no
//! `any_value`/`first`, no approximate aggregates, no `row_number`/`lag`/`lead`/`ROWS` frames over
//! orderings with ties, no `now()`/`random()`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::tables::{API_USAGE, TABLES, Table, Ty, USER_LIST};

/// One generated query, and whether its rows come in an order DuckDB fixes.
pub(super) struct Query {
    pub sql: String,
    pub ordered: bool,
}

// Names that are keywords, and names with capitals (kept as written).
const ALIASES: [&str; 12] =
    ["c1", "c2", "\"user\"", "count", "date", "value", "\"order\"", "total", "n", "x", "totalEvents", "eventType"];

pub(super) struct Generator {
    pub(super) rng: ChaCha8Rng,
    /// This query's output column names, keywords among them.
    aliases: Vec<&'static str>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator { rng: ChaCha8Rng::seed_from_u64(seed), aliases: ALIASES.to_vec() }
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    pub(super) fn small(&mut self) -> i64 {
        self.rng.random_range(-3..12)
    }

    fn projection(&mut self, table: &Table, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let ty = self.any_type();
                let e = self.expr(table, ty, 2);
                // Some items unnamed: the column is then named as DuckDB names the expression.
                if self.chance(0.3) { e } else { format!("{e} AS {}", self.alias(i)) }
            })
            .collect()
    }

    fn where_clause(&mut self, table: &Table) -> String {
        if self.chance(0.6) { format!(" WHERE {}", self.expr(table, Ty::Bool, 2)) } else { String::new() }
    }

    /// `ORDER BY` over every output column, in a random direction with random NULL placement:
    /// a total order of the rows, so LIMIT and OFFSET are fixed too.
    fn total_order(&mut self, columns: usize) -> String {
        let keys: Vec<String> = (1..=columns)
            .map(|i| {
                let direction = *self.pick(&["", " ASC", " DESC"]);
                let nulls = *self.pick(&["", "", " NULLS FIRST", " NULLS LAST"]);
                format!("{i}{direction}{nulls}")
            })
            .collect();
        let mut clause = format!(" ORDER BY {}", keys.join(", "));
        if self.chance(0.5) {
            clause.push_str(&format!(" LIMIT {}", self.rng.random_range(1..20)));
            if self.chance(0.4) {
                clause.push_str(&format!(" OFFSET {}", self.rng.random_range(0..5)));
            }
        }
        clause
    }

    fn aggregate(&mut self, table: &Table) -> String {
        let ty = *self.pick(&[Ty::Text, Ty::Int, Ty::Num, Ty::Bool, Ty::Ts]);
        let e = self.expr(table, ty, 1);
        match (ty, self.rng.random_range(0..6)) {
            (_, 0) => "count(*)".into(),
            (_, 1) => format!("count({e})"),
            (_, 2) => format!("count(DISTINCT {e})"),
            (Ty::Num | Ty::Int, 3) => format!("sum({e})"),
            (Ty::Num | Ty::Int, 4) => format!("avg({e})"),
            (Ty::Num, _) => format!("{}({e})", self.pick(&["median", "stddev_samp", "max", "min"])),
            (Ty::Int, _) => format!("quantile_cont({e}, 0.25)"),
            (Ty::Text, 3) => format!("string_agg({e}, ',' ORDER BY {e})"),
            (Ty::Text, 4) => format!("min({e})"),
            (Ty::Bool, 3 | 4) => format!("{}({e})", self.pick(&["bool_or", "bool_and"])),
            (Ty::Bool, _) => format!("count(*) FILTER (WHERE {e})"),
            (Ty::Ts, 3) => format!("{}({e})", self.pick(&["median", "avg"])),
            (Ty::Ts, 4) => format!("max({e}, 2)"),
            _ => format!("max({e})"),
        }
    }

    pub(super) fn alias(&self, i: usize) -> &'static str {
        self.aliases[i % self.aliases.len()]
    }

    pub fn query(&mut self) -> Query {
        rand::seq::SliceRandom::shuffle(self.aliases.as_mut_slice(), &mut self.rng);
        let table = *self.pick(&TABLES);
        match self.rng.random_range(0..12) {
            0..=2 => self.select(table),
            3..=5 => self.grouped(table),
            6 => self.windowed(table),
            7 => self.set_operation(),
            8 => self.with_subquery(),
            9 => self.joined(),
            10 => self.cte(table),
            _ => self.literals(),
        }
    }

    fn select(&mut self, table: &Table) -> Query {
        let n = self.rng.random_range(1..4);
        let distinct = if self.chance(0.3) { "DISTINCT " } else { "" };
        let mut sql = format!("SELECT {distinct}{} FROM {}", self.projection(table, n).join(", "), table.from);
        sql.push_str(&self.where_clause(table));
        let ordered = self.chance(0.6);
        if ordered {
            sql.push_str(&self.total_order(n));
        }
        Query { sql, ordered }
    }

    fn grouped(&mut self, table: &Table) -> Query {
        let key_ty = *self.pick(&[Ty::Text, Ty::Int, Ty::Date, Ty::Bool]);
        let mut key = self.expr(table, key_ty, 1);
        // DuckDB drops constant grouping keys (one row even over no rows); not generated.
        if !["a.", "u.", "l.", "g."].iter().any(|column| key.contains(column)) {
            key = self.column(table, Ty::Text).unwrap_or(key);
        }
        let aggregates = self.rng.random_range(1..3);
        let mut items = vec![format!("{key} AS {}", self.alias(0))];
        for i in 0..aggregates {
            items.push(format!("{} AS {}", self.aggregate(table), self.alias(i + 1)));
        }
        let group_by = match self.rng.random_range(0..3) {
            0 => "ALL".to_string(),
            1 => "1".to_string(),
            _ => self.alias(0).to_string(),
        };
        let mut sql =
            format!("SELECT {} FROM {}{} GROUP BY {group_by}", items.join(", "), table.from, self.where_clause(table));
        if self.chance(0.3) {
            sql.push_str(&format!(" HAVING count(*) > {}", self.rng.random_range(0..30)));
        }
        let ordered = self.chance(0.5);
        if ordered {
            sql.push_str(&self.total_order(items.len()));
        }
        Query { sql, ordered }
    }

    fn windowed(&mut self, table: &Table) -> Query {
        let part = self.expr(table, Ty::Text, 0);
        let order = self.column(table, Ty::Ts).or_else(|| self.column(table, Ty::Text)).unwrap_or_default();
        let window = match (table.key, self.rng.random_range(0..7)) {
            (_, 0) => format!("rank() OVER (PARTITION BY {part} ORDER BY {order} DESC)"),
            (_, 1) => format!("dense_rank() OVER (PARTITION BY {part} ORDER BY {order})"),
            (_, 2) => format!("count(*) OVER (PARTITION BY {part})"),
            (_, 3) => format!("cume_dist() OVER (ORDER BY {order})"),
            (Some(key), 4) => format!("row_number() OVER (PARTITION BY {part} ORDER BY {key})"),
            (Some(key), 5) => format!("lag({part}) OVER (ORDER BY {key})"),
            (Some(key), _) => {
                format!("count({part}) OVER (ORDER BY {key} ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)")
            }
            _ => format!("max({order}) OVER (PARTITION BY {part} ORDER BY {order})"),
        };
        let mut sql = format!("SELECT {part} AS {}, {window} AS {} FROM {}", self.alias(0), self.alias(1), table.from);
        sql.push_str(&self.where_clause(table));
        if !window.starts_with("lag") && self.chance(0.3) {
            sql.push_str(&format!(" QUALIFY {window} <= {}", self.rng.random_range(1..4)));
        }
        Query { sql, ordered: false }
    }

    fn set_operation(&mut self) -> Query {
        let sides = [
            "SELECT user_id FROM apiUsage u",
            "SELECT user_id FROM userList l",
            "SELECT a.data->>'userId' FROM activity a",
            "SELECT unnest(group_ids) FROM userList l",
            "SELECT group_id FROM groupList g",
        ];
        let op = *self.pick(&["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"]);
        let left = self.pick(&sides).to_string();
        let right = self.pick(&sides).to_string();
        let filter = if self.chance(0.5) { " WHERE user_id LIKE '%a%'" } else { "" };
        let right = if right.contains("FROM userList") && !right.contains("unnest") {
            format!("{right}{filter}")
        } else {
            right
        };
        Query { sql: format!("{left} {op} {right}"), ordered: false }
    }

    fn with_subquery(&mut self) -> Query {
        let condition = self.expr(&API_USAGE, Ty::Bool, 1);
        let sql = match self.rng.random_range(0..19) {
            0 => format!(
                "SELECT l.email, l.role FROM userList l WHERE l.user_id IN (SELECT u.user_id FROM apiUsage u WHERE {condition})"
            ),
            // Correlated other than by equality: by an inequality, an OR, the outer row alone.
            13 => format!(
                "SELECT l.email, (SELECT count(*) FROM apiUsage u WHERE u.ts < l.created_at + INTERVAL {} DAY AND {condition}) AS n FROM userList l",
                self.rng.random_range(0..400)
            ),
            14 => format!(
                "SELECT l.email, (SELECT max(u.amount) FROM apiUsage u WHERE (u.user_id = l.user_id OR l.role = '{}') AND {condition}) AS m FROM userList l",
                self.pick(&["Admin", "Editor", "Viewer"])
            ),
            15 => format!(
                "SELECT l.email FROM userList l WHERE EXISTS (SELECT 1 FROM apiUsage u WHERE u.user_id <> l.user_id AND u.amount > length(l.email) * {} AND {condition})",
                self.rng.random_range(1..200)
            ),
            // Correlated under a LIMIT: computed once per outer value.
            16 => format!(
                "SELECT l.email, (SELECT sum(t.amount) FROM (SELECT u.amount FROM apiUsage u WHERE u.user_id = l.user_id AND {condition} ORDER BY u.amount DESC, u.ts LIMIT {}) t) AS top_sum FROM userList l",
                self.rng.random_range(1..4)
            ),
            17 => format!(
                "SELECT l.email, l.role {} ANY (SELECT m.role FROM userList m WHERE m.created_at < l.created_at ORDER BY m.created_at DESC, m.email LIMIT {}) AS like_recent FROM userList l",
                self.pick(&["=", "<>", "<", ">="]),
                self.rng.random_range(1..4)
            ),
            18 => format!(
                "SELECT l.email, EXISTS (SELECT 1 FROM (SELECT u.metric FROM apiUsage u WHERE u.user_id = l.user_id AND {condition} LIMIT 1)) AS any_use FROM userList l"
            ),
            // Each user's first rows in an order: a LATERAL with LIMIT, a scalar subquery's row.
            9 => format!(
                "SELECT l.email, t.metric, t.amount FROM userList l LEFT JOIN LATERAL (SELECT u.metric, u.amount FROM apiUsage u WHERE u.user_id = l.user_id AND {condition} ORDER BY u.amount DESC, u.metric, u.ts LIMIT {}) t ON true",
                self.rng.random_range(1..3)
            ),
            10 => format!(
                "SELECT l.email, (SELECT u.metric FROM apiUsage u WHERE u.user_id = l.user_id AND {condition} ORDER BY u.amount DESC, u.metric, u.ts LIMIT 1) AS top_metric FROM userList l"
            ),
            // Correlated on an expression of the subquery's rows; a LATERAL without FROM.
            11 => format!(
                "SELECT l.email, (SELECT count(*) FROM apiUsage u WHERE lower(u.user_id) = l.user_id AND {condition}) AS n FROM userList l"
            ),
            12 => "SELECT l.email, d.domain, d.n FROM userList l, LATERAL (SELECT split_part(l.email, '@', 2) AS domain, length(l.email) AS n) d".to_string(),
            1 => format!(
                "SELECT l.email FROM userList l WHERE EXISTS (SELECT 1 FROM apiUsage u WHERE u.user_id = l.user_id AND {condition})"
            ),
            2 => format!(
                "SELECT l.email FROM userList l WHERE NOT EXISTS (SELECT 1 FROM apiUsage u WHERE u.user_id = l.user_id AND {condition})"
            ),
            3 => format!("SELECT l.role, (SELECT count(*) FROM apiUsage u WHERE {condition}) AS n FROM userList l"),
            // Correlated subqueries in select lists, keyed on columns and on computed values (named:
            // DuckDB names an unnamed subquery by its own rendering of it, which this layer lacks).
            4 => format!(
                "SELECT l.email, EXISTS (SELECT 1 FROM apiUsage u WHERE u.user_id = l.user_id AND {condition}) AS used FROM userList l"
            ),
            5 => format!(
                "SELECT l.email, NOT EXISTS (SELECT 1 FROM activity a WHERE a.data->>'userId' = l.user_id AND a.type LIKE '{}%') AS quiet FROM userList l",
                self.pick(&["Map", "Workflow", "User", "Sql"])
            ),
            6 => format!(
                "SELECT l.role, l.user_id IN (SELECT u.user_id FROM apiUsage u WHERE {condition}) AS used, count(*) AS n FROM userList l GROUP BY ALL"
            ),
            7 => format!(
                "SELECT g.group_alias, g.group_id NOT IN (SELECT unnest(l.group_ids) FROM userList l WHERE l.role = '{}') AS unused FROM groupList g",
                self.pick(&["Admin", "Editor", "Viewer"])
            ),
            _ => format!(
                "SELECT s.metric, s.total FROM (SELECT u.metric, sum(u.amount) AS total FROM apiUsage u WHERE {condition} GROUP BY u.metric) s WHERE s.total > {}",
                self.rng.random_range(0..2000)
            ),
        };
        Query { sql, ordered: false }
    }

    fn joined(&mut self) -> Query {
        let condition = self.expr(&API_USAGE, Ty::Bool, 1);
        let sql = match self.rng.random_range(0..8) {
            // A lateral unnest kept for users without groups; a join named by its type.
            6 => "SELECT l.email, g.gid FROM userList l LEFT JOIN UNNEST(l.group_ids) AS g(gid) ON TRUE".to_string(),
            7 => format!("SELECT l.email FROM userList l JOIN BY (TYPE semi) apiUsage u ON u.user_id = l.user_id AND {condition}"),
            0 => format!("SELECT l.role, u.metric, count(*) AS n FROM userList l JOIN apiUsage u ON u.user_id = l.user_id WHERE {condition} GROUP BY ALL"),
            1 => format!("SELECT l.email, sum(u.amount) AS total FROM userList l LEFT JOIN apiUsage u ON u.user_id = l.user_id AND {condition} GROUP BY l.email"),
            2 => "SELECT user_id, l.role, count(*) AS n FROM userList l JOIN apiUsage u USING (user_id) GROUP BY ALL".to_string(),
            3 => format!("SELECT l.email FROM userList l SEMI JOIN apiUsage u ON u.user_id = l.user_id AND {condition}"),
            4 => format!("SELECT l.email FROM userList l ANTI JOIN apiUsage u ON u.user_id = l.user_id AND {condition}"),
            _ => "SELECT g.group_alias, count(*) AS members FROM (SELECT user_id, unnest(group_ids) AS group_id FROM userList) m JOIN groupList g USING (group_id) GROUP BY 1".to_string(),
        };
        Query { sql, ordered: false }
    }

    fn cte(&mut self, table: &Table) -> Query {
        let inner = self.grouped(table).sql;
        let inner = inner.split(" ORDER BY ").next().unwrap_or(&inner).to_string();
        // Or the first rows of the CTE in its own order (ORDER BY ALL: ties are identical rows).
        let sql = if self.rng.random_bool(0.3) {
            format!("WITH c AS ({inner} ORDER BY ALL DESC) SELECT * FROM c LIMIT {}", self.rng.random_range(1..4))
        } else {
            format!("WITH c AS ({inner}) SELECT * FROM c WHERE {} IS NOT NULL", self.alias(0))
        };
        Query { sql, ordered: false }
    }

    fn literals(&mut self) -> Query {
        let sql = match self.rng.random_range(0..6) {
            0 => "SELECT [1, 2, 3] AS l, ['a', NULL] AS m, {'a': 1, 'b': 'x'} AS s".to_string(),
            1 => "SELECT unnest(['x', 'y', NULL]) AS v".to_string(),
            2 => format!(
                "SELECT list_contains(l.group_ids, l.group_ids[1]) AS has, len(l.group_ids) AS n FROM userList l{}",
                self.where_clause(&USER_LIST)
            ),
            3 => "SELECT DISTINCT ON (l.role) l.role, l.email FROM userList l ORDER BY l.role, l.user_id".to_string(),
            4 => format!(
                "SELECT CAST(u.ts AS DATE) + INTERVAL {} DAY AS d, count(*) AS n FROM apiUsage u GROUP BY 1",
                self.small().abs()
            ),
            _ => "SELECT * FROM generate_series(DATE '2025-10-01', DATE '2025-10-05', INTERVAL 1 DAY) AS t(d)"
                .to_string(),
        };
        let ordered = sql.contains("ORDER BY");
        Query { sql, ordered }
    }
}
