"""Regenerates fixtures/sqllogic/cases.jsonl from DuckDB's own sqllogictest files.

Usage: python3 tests/sqllogic.py DUCKDB_CHECKOUT   (a clone of github.com/duckdb/duckdb; needs the
`duckdb` package of tests/requirements.txt)

Takes every `query` record of the test files of the families an analyst's SQL uses (functions of
every kind, aggregates, windows, JSON, and the query forms: subqueries, CTEs, joins, set
operations, ordering and limits, filters, projections, casts, types, PIVOT), runs it in DuckDB
(UTC, one thread) and keeps the records whose answer is the one the file expects: DuckDB's own
answer, confirmed. A record that reads tables its file created (by the file's own statements, run
in order) gets each table inlined as a CTE of typed VALUES (`WITH t AS (SELECT * FROM (VALUES
...) AS t(a, b))`), and is confirmed on DuckDB in that form; records that read views, macros,
types or sequences, files that change settings, and tables over 1,000 rows are left out. Each is written
with DuckDB's answer as the catalogue's cases are (values as DuckDB prints them, type names) and
its sort mode. The Rust test `engine::compat::sqllogic` runs them through carto-activity.
"""
import datetime
import decimal
import json
import math
import os
import re
import sys
import uuid

import duckdb

sys.path.insert(0, os.path.dirname(__file__))
from catalogue import duckdb_answer  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sqllogic", "cases.jsonl")
FAMILIES = {
    "test/sql/function/string": "string", "test/sql/function/date": "date & time",
    "test/sql/function/timestamp": "date & time", "test/sql/function/interval": "date & time",
    "test/sql/function/list": "list & struct", "test/sql/function/generic": "conditional & generic",
    "test/sql/json": "json", "test/sql/aggregate": "aggregate", "test/sql/window": "window",
    "test/sql/function/numeric": "numeric", "test/sql/function/operator": "numeric",
    "test/sql/function/array": "list & struct", "test/sql/function/struct": "list & struct",
    "test/sql/function/time": "date & time", "test/sql/function": "other functions",
    "test/sql/subquery": "subquery", "test/sql/cte": "cte", "test/sql/join": "join",
    "test/sql/setops": "set operations", "test/sql/order": "order & limit", "test/sql/limit": "order & limit",
    "test/sql/topn": "order & limit", "test/sql/filter": "filter & select", "test/sql/select": "filter & select",
    "test/sql/conjunction": "filter & select", "test/sql/projection": "projection", "test/sql/cast": "cast",
    "test/sql/types/nested": "list & struct", "test/sql/types/struct": "list & struct",
    "test/sql/types/list": "list & struct", "test/sql/types/decimal": "decimal",
    "test/sql/types/interval": "date & time", "test/sql/types/date": "date & time",
    "test/sql/types/timestamp": "date & time", "test/sql/types/time": "date & time",
    "test/sql/types/null": "conditional & generic", "test/sql/types": "other types", "test/sql/pivot": "pivot",
}
MAX_TABLE_ROWS = 1000
MAX_SQL_CHARS = 60000
SETTING = re.compile(r"^\s*(SET|RESET|PRAGMA|ATTACH|USE|LOAD|INSTALL|CALL)\b", re.I)
UNUSABLE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:VIEW|MACRO|FUNCTION|TYPE|SEQUENCE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][\w.]*)",
    re.I,
)
CREATED = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW|MACRO|FUNCTION|TYPE|SEQUENCE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][\w.]*)",
    re.I,
)
MAX_ANSWER_CHARS = 4000


def family_of(path):
    for prefix, family in sorted(FAMILIES.items(), key=lambda kv: -len(kv[0])):
        if path.startswith(prefix + "/"):
            return "regex" if family == "string" and "regex" in os.path.basename(path) else family
    return None


def records(text):
    """The records outside loops, in order: ("statement", line, sql) and ("query", line, header,
    sql, expected lines)."""
    lines = text.split("\n")
    i, depth = 0, 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^(loop|foreach|concurrentloop|concurrentforeach)\b", line):
            depth += 1
        elif line.startswith("endloop"):
            depth = max(0, depth - 1)
        kind = "query" if line.startswith("query ") else "statement" if line.startswith("statement ") else None
        if kind and depth == 0:
            start, header = i + 1, line.split()
            i += 1
            sql = []
            while i < len(lines) and lines[i].strip() != "----" and lines[i].strip():
                sql.append(lines[i])
                i += 1
            expected = []
            if i < len(lines) and lines[i].strip() == "----":
                i += 1
                while i < len(lines) and lines[i].strip():
                    expected.append(lines[i])
                    i += 1
            if kind == "query":
                yield "query", start, header, "\n".join(sql), expected
            else:
                yield "statement", start, header, "\n".join(sql), expected
            continue
        i += 1


def literal(value):
    """A Python value DuckDB returned, as SQL that reads back as it (types fixed by a cast
    around it); None for a value of a kind this does not write."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"'{value}'::DOUBLE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (datetime.date, datetime.time, uuid.UUID)):
        return f"'{value}'"
    if isinstance(value, list):
        items = [literal(v) for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        items = [(k, literal(v)) for k, v in value.items()]
        if any(v is None for _, v in items):
            return None
        return "{" + ", ".join("'" + str(k).replace("'", "''") + "': " + v for k, v in items) + "}"
    return None


# Column types written as their text cast back (`CAST('1 month' AS INTERVAL)`): Python's values of
# these lose what DuckDB keeps (an interval's months, a HUGEINT's width, a blob's bytes as text).
AS_TEXT = re.compile(r"^(INTERVAL|HUGEINT|UHUGEINT|BLOB|TIMESTAMP_NS|TIME WITH TIME ZONE)$")


def inlined_table(con, name):
    """`name AS (SELECT * FROM (VALUES ...) AS name(columns))` with the table's rows, each value
    cast to its column's type; None when the table is too large or holds a kind of value (maps,
    unions, enums, bits, fixed-size arrays) this does not write."""
    try:
        described = con.execute(f'DESCRIBE "{name}"').fetchall()
    except Exception:
        return None
    columns = [(c[0], c[1]) for c in described]
    if any(re.search(r"MAP|BIT|UNION|ENUM|VARIANT|GEOMETRY|\[\d", t) for _, t in columns):
        return None
    if any(re.search(r"INTERVAL|HUGEINT|BLOB|TIMESTAMP_NS|TIME WITH", t) and not AS_TEXT.match(t) for _, t in columns):
        return None
    read = ", ".join(
        ('CAST("{0}" AS VARCHAR)' if AS_TEXT.match(t) else '"{0}"').format(c.replace('"', '""')) for c, t in columns
    )
    try:
        rows = con.execute(f'SELECT {read} FROM "{name}" LIMIT {MAX_TABLE_ROWS + 1}').fetchall()
    except Exception:
        return None
    if len(rows) > MAX_TABLE_ROWS:
        return None
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c, _ in columns)
    values = []
    for row in rows or [tuple(None for _ in columns)]:
        cells = []
        for value, (_, ctype) in zip(row, columns):
            text = literal(value)
            if text is None:
                return None
            cells.append(f"CAST({text} AS {ctype})")
        values.append("(" + ", ".join(cells) + ")")
    where = "" if rows else " WHERE false"
    return f'"{name}" AS (SELECT * FROM (VALUES {", ".join(values)}) AS "{name}"({quoted}){where})'


def with_tables(sql, tables):
    """The query with the tables inlined as CTEs ahead of its own."""
    ctes = ", ".join(tables)
    match = re.match(r"^\s*WITH(\s+RECURSIVE)?\s", sql, re.I)
    if match:
        return f"WITH{match.group(1) or ''} {ctes}, " + sql[match.end():]
    return f"WITH {ctes} " + sql


def as_test_text(value):
    if value is None:
        return "NULL"
    return "(empty)" if value == "" else value


def confirmed(rows, expected, sort, header):
    """Whether DuckDB's rows print as the file expects (row per line, or a value per line); a
    labelled record without results is compared with the other records of its label by DuckDB's
    own test runner, and taken as DuckDB answers it."""
    if any(re.match(r"^\d+ values hashing to", e) for e in expected):
        return False
    labelled = len(header) > 3 or (len(header) > 2 and header[2] not in ("rowsort", "valuesort", "nosort"))
    if not expected and labelled:
        return True
    # The test runner may print a boolean as 1 or 0 and a number with other digits (`3` for
    # `3.0`, `NAN`); either spelling confirms it.
    def spelled(value):
        value = {"true": "1", "false": "0"}.get(value, value)
        try:
            number = float(value)
        except ValueError:
            return value
        return "nan" if number != number else f"{number:.6g}"

    cells = [[spelled(as_test_text(v)) for v in row] for row in rows]
    expected = ["\t".join(spelled(v) for v in e.split("\t")) for e in expected]
    by_row = ["\t".join(r) for r in cells]
    by_value = [v for r in cells for v in r]
    if sort == "valuesort":
        return sorted(by_value) == sorted(expected) or sorted(v for r in by_row for v in r.split("\t")) == sorted(
            v for e in expected for v in e.split("\t")
        )
    if sort == "rowsort":
        return sorted(by_row) == sorted(expected)
    return by_row == expected or by_value == expected


def connection():
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=1")
    return con


def main():
    checkout = sys.argv[1]
    kept, seen, over_tables = 0, 0, 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        for root, _, files in sorted(os.walk(os.path.join(checkout, "test", "sql"))):
            for name in sorted(files):
                path = os.path.relpath(os.path.join(root, name), checkout)
                family = family_of(path)
                if family is None or not name.endswith(".test"):
                    continue
                text = open(os.path.join(checkout, path), encoding="utf-8", errors="replace").read()
                if re.search(r"^require\s+(?!json\b)", text, re.M):
                    continue
                con = connection()
                created, unusable, unsettled = set(), set(), False
                for kind, line, header, sql, expected in records(text):
                    if kind == "statement":
                        unsettled |= bool(SETTING.match(sql))
                        unusable |= {m.lower().split(".")[-1] for m in UNUSABLE.findall(sql)}
                        created |= {m.lower().split(".")[-1] for m in CREATED.findall(sql)}
                        try:
                            con.execute(sql)
                        except Exception:
                            pass
                        continue
                    words = {w.lower() for w in re.findall(r"[A-Za-z_]\w*", sql)}
                    if words & unusable or re.search(r"\$\{|\{[A-Z_]+\}|__TEST_DIR__|data/", sql):
                        continue
                    tables = sorted(words & (created - unusable))
                    if tables and unsettled:
                        continue
                    seen += 1
                    sort = header[2] if len(header) > 2 and header[2] in ("rowsort", "valuesort") else "nosort"
                    try:
                        rows = con.execute(sql).fetchall()
                    except Exception:
                        continue
                    if tables:
                        inlined = [inlined_table(con, t) for t in tables]
                        if None in inlined:
                            continue
                        sql = with_tables(sql, inlined)
                        if len(sql) > MAX_SQL_CHARS:
                            continue
                        try:
                            if connection().execute(sql).fetchall() != rows and sort == "nosort":
                                continue
                        except Exception:
                            continue
                    fresh = connection()
                    answer = duckdb_answer(fresh, sql.rstrip().rstrip(";"))
                    if answer is None or sum(len(str(c)) for r in answer["rows"] for c in r) > MAX_ANSWER_CHARS:
                        continue
                    if len(rows) != len(answer["rows"]) or not confirmed(answer["rows"], expected, sort, header):
                        continue
                    record = {"entry": f"{path}:{line}", "family": family, "sql": sql, "compare": sort, **answer}
                    if tables:
                        record["over_tables"] = True
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    kept += 1
                    over_tables += bool(tables)
    print(
        f"{seen} records; {kept} confirmed on DuckDB {duckdb.__version__}, {over_tables} of them over tables",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
