"""Regenerates fixtures/sqllogic/cases.jsonl from DuckDB's own sqllogictest files.

Usage: python3 tests/sqllogic.py DUCKDB_CHECKOUT   (a clone of github.com/duckdb/duckdb; needs the
`duckdb` package of tests/requirements.txt)

Takes every `query` record of the test files of the families activity analysis uses (string and
regex, date, timestamp, interval, list, JSON, aggregate, generic, window functions) that reads no
table, view, macro or type created in its file, runs it in DuckDB (UTC, one thread) and keeps the
records whose answer is the one the file expects: DuckDB's own answer, confirmed. Each is written
with DuckDB's answer as the catalogue's cases are (values as DuckDB prints them, type names) and
its sort mode. The Rust test `engine::compat::sqllogic` runs them through carto-activity.
"""
import json
import os
import re
import sys

import duckdb

sys.path.insert(0, os.path.dirname(__file__))
from catalogue import duckdb_answer  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sqllogic", "cases.jsonl")
FAMILIES = {
    "test/sql/function/string": "string", "test/sql/function/date": "date & time",
    "test/sql/function/timestamp": "date & time", "test/sql/function/interval": "date & time",
    "test/sql/function/list": "list & struct", "test/sql/function/generic": "conditional & generic",
    "test/sql/json": "json", "test/sql/aggregate": "aggregate", "test/sql/window": "window",
}
CREATED = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW|MACRO|FUNCTION|TYPE|SEQUENCE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][\w.]*)",
    re.I,
)
MAX_ANSWER_CHARS = 4000


def family_of(path):
    for prefix, family in FAMILIES.items():
        if path.startswith(prefix + "/"):
            return "regex" if family == "string" and "regex" in os.path.basename(path) else family
    return None


def records(text):
    """(line, header, sql, expected lines) of each `query` record outside loops."""
    lines = text.split("\n")
    i, depth = 0, 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^(loop|foreach|concurrentloop|concurrentforeach)\b", line):
            depth += 1
        elif line.startswith("endloop"):
            depth = max(0, depth - 1)
        if line.startswith("query ") and depth == 0:
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
            yield start, header, "\n".join(sql), expected
            continue
        i += 1


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


def main():
    checkout = sys.argv[1]
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=1")
    kept, seen = 0, 0
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
                created = {m.lower().split(".")[-1] for m in CREATED.findall(text)}
                for line, header, sql, expected in records(text):
                    words = {w.lower() for w in re.findall(r"[A-Za-z_]\w*", sql)}
                    if words & created or re.search(r"\$\{|\{[A-Z_]+\}|__TEST_DIR__|data/", sql):
                        continue
                    seen += 1
                    sort = header[2] if len(header) > 2 and header[2] in ("rowsort", "valuesort") else "nosort"
                    try:
                        rows = con.execute(sql).fetchall()
                    except (duckdb.Error, UnicodeDecodeError):
                        continue
                    answer = duckdb_answer(con, sql.rstrip().rstrip(";"))
                    if answer is None or sum(len(str(c)) for r in answer["rows"] for c in r) > MAX_ANSWER_CHARS:
                        continue
                    if len(rows) != len(answer["rows"]) or not confirmed(answer["rows"], expected, sort, header):
                        continue
                    record = {"entry": f"{path}:{line}", "family": family, "sql": sql, "compare": sort, **answer}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    kept += 1
    print(f"{seen} records read no table of their file; {kept} confirmed on DuckDB {duckdb.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
