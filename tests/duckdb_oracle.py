"""Runs SQL on DuckDB over Parquet files and prints the result as carto-activity's --json does.

Usage: duckdb_oracle.py SPEC_JSON   (or @FILE: the spec read from FILE)
SPEC_JSON: {"tables": {"activity": ["a.parquet", ...], ...}, "sql": "SELECT ..."}
       or  {"tables": ..., "sqls": ["SELECT ...", ...]} for a list of {"rows": [[v, ...], ...]}
           or {"error": "..."}, one per statement, with rows as arrays of values.
The independent answer that end-to-end tests compare the CLI against.
"""
import datetime
import decimal
import json
import math
import sys
import uuid
import warnings

import duckdb


def encode(value):
    if isinstance(value, datetime.datetime):
        # An instant (TIMESTAMPTZ) in UTC with Z; a TIMESTAMP (no zone) with none, as carto-activity writes them.
        zone = "Z" if value.tzinfo is not None else ""
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        # As carto-activity prints them: no fraction, milliseconds or microseconds, then Z.
        # (isoformat, not strftime: glibc's %Y writes year 1 as "1".)
        text = value.replace(microsecond=0).isoformat()
        if value.microsecond % 1000 == 0 and value.microsecond:
            text += ".%03d" % (value.microsecond // 1000)
        elif value.microsecond:
            text += ".%06d" % value.microsecond
        return text + zone
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        # As DuckDB writes a TIME (and carto-activity with it): the fraction without trailing zeros.
        text = value.strftime("%H:%M:%S")
        if value.microsecond:
            text += (".%06d" % value.microsecond).rstrip("0")
        return text
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def fetch(con, sql):
    """The column names and rows of `sql`; an INTERVAL is read through Arrow, as months, days and
    microseconds (Python's timedelta has no months), and written as DuckDB writes it."""
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    if not any(str(d[1]) == "INTERVAL" for d in cur.description):
        return columns, cur.fetchall()
    with warnings.catch_warnings():
        # The same result read once more, as Arrow: the copy it warns of is what is wanted.
        warnings.simplefilter("ignore")
        table = cur.to_arrow_table()
    rows = [list(r) for r in zip(*(c.to_pylist() for c in table.columns))]
    spots = [(r, i) for r, row in enumerate(rows) for i, v in enumerate(row) if hasattr(v, "nanoseconds")]
    if spots:
        parts = [rows[r][i] for r, i in spots]
        texts = con.execute(
            "SELECT list_transform(range(len($1)), lambda i: "
            "(to_months($1[i + 1]) + to_days($2[i + 1]) + to_microseconds($3[i + 1]))::VARCHAR)",
            [[v.months for v in parts], [v.days for v in parts], [v.nanoseconds // 1000 for v in parts]],
        ).fetchone()[0]
        for (r, i), text in zip(spots, texts):
            rows[r][i] = text
    return columns, rows


def main():
    arg = sys.argv[1]
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            arg = f.read()
    spec = json.loads(arg)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for name, files in spec["tables"].items():
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        # Cached files carry hidden shredded columns (named __...) that the tables do not show.
        con.execute(f"CREATE VIEW \"{name}\" AS SELECT COLUMNS('^([^_]|_[^_])') FROM read_parquet([{listing}])")
    if "sqls" in spec:
        results = []
        for sql in spec["sqls"]:
            try:
                columns, rows = fetch(con, sql)
                results.append({"columns": columns, "rows": [[encode(v) for v in row] for row in rows]})
            except duckdb.Error as e:
                results.append({"error": str(e)})
        json.dump(results, sys.stdout)
        return
    columns, rows = fetch(con, spec["sql"])
    rows = [dict(zip(columns, (encode(v) for v in row))) for row in rows]
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
