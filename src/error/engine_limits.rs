//! The engine's limits a query can reach, by the words of its message, each with what to write
//! instead: data, read by `Error::query`.

pub(super) const ENGINE_LIMITS: [(&str, &str); 8] = [
    (
        "does not satisfy order requirements",
        "internal error of the engine: its plan for this query fails its own check of the sort order (please report it to carto-activity with the SQL)",
    ),
    (
        "Aggregate ORDER BY is not implemented for window functions",
        "an aggregate's own ORDER BY (f(x ORDER BY y) OVER (...)) is supported over a whole partition only: write the order in OVER (... ORDER BY y) with a frame, or aggregate in a subquery",
    ),
    (
        "Unexpected empty work table",
        "a recursive CTE whose step reads itself more than once (or in a subquery) is not supported: read it once, in the step's FROM",
    ),
    (
        "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
        "DISTINCT ON (...) with an ORDER BY that does not start with its expressions is not supported here: start the ORDER BY with them, or keep the rows where row_number() OVER (PARTITION BY ... ORDER BY ...) = 1",
    ),
    (
        "frame offsets for ROWS / GROUPS must be non negative integers",
        "a window frame's ROWS or GROUPS offset is a constant non-negative integer here (not a column or expression, as DuckDB also takes): write the number, e.g. ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
    ),
    (
        "In an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
        "an aggregate with DISTINCT is ordered here only by its own arguments (string_agg(DISTINCT s, ',' ORDER BY s)): to order by something else, aggregate a subquery's distinct rows, e.g. (SELECT string_agg(s, ',' ORDER BY f(s)) FROM (SELECT DISTINCT s FROM t))",
    ),
    (
        "exceeds the maximum supported precision",
        "a DECIMAL of more than 76 digits (a number literal that long, or DECIMAL(p) with p over 76) is not supported: write the number as a DOUBLE",
    ),
    (
        "Unnest should be rewritten to LogicalPlan::Unnest",
        "unnest() is not supported inside this expression: unnest in a subquery's select list or FROM, e.g. (SELECT list(x ORDER BY x) FROM unnest(l) AS t(x))",
    ),
];
