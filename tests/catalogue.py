"""Regenerates fixtures/catalogue/cases.jsonl from DuckDB's own function catalogue.

Usage: python3 tests/catalogue.py   (needs the `duckdb` package of tests/requirements.txt)

Every scalar, aggregate, window and macro function that `duckdb_functions()` lists is put in a
family (date & time, string, regex, JSON, list & struct, math, aggregate, window, conditional &
generic) or marked out of scope (system, blob, geometry, bit strings, ...). Each function in scope
gets cases: its catalogue examples and arguments generated from its parameter types (NULLs,
empty and unicode strings, negatives and zero, month ends and leap days, microsecond timestamps,
nested JSON with missing keys and JSON null, lists). Casts to DuckDB's type names are a family
too. Every case is run here in DuckDB; the ones DuckDB answers are written with DuckDB's answer:
each value as DuckDB prints it (its VARCHAR form) and DuckDB's type name. The Rust test
`engine::compat::catalogue` runs the same cases through carto-activity.
"""
import itertools
import json
import os
import re
import sys

import duckdb

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "catalogue", "cases.jsonl")
CASES_PER_FUNCTION = 8

# A small table for aggregates and window functions, each column one type.
TABLE = """(VALUES
  (1, 2.5, 'b', TIMESTAMP '2024-02-29 13:45:30.123456', DATE '2024-02-29', true, '{"a":1,"b":[1,2]}', [1, 2], 'x'),
  (2, -0.75, 'a', TIMESTAMP '2025-01-31 00:00:00', DATE '2025-01-31', false, '{"a":2}', [3], 'x'),
  (3, NULL, 'ñandú', TIMESTAMP '2025-12-31 23:59:59.5', DATE '2025-12-31', true, 'null', [], 'y'),
  (4, 10.0, NULL, NULL, NULL, NULL, NULL, NULL, 'y'),
  (5, 2.5, 'b', TIMESTAMP '2024-03-01 00:00:00', DATE '2024-03-01', false, '{"a":{"c":null}}', [1, NULL], 'y')
) t(i, d, s, ts, dt, b, j, l, g)"""
COLUMN_FOR = {
    "int": "i", "num": "d", "str": "s", "ts": "ts", "date": "dt", "bool": "b", "json": "j", "list": "l",
    "any": "i",
}

# Argument values per DuckDB parameter type.
POOLS = {
    # ...and letters whose case maps differently one by one than as words (ß, İ, final sigma).
    "str": ["'hello world'", "''", "'ÁbÇ ñandú 🦆'", "NULL", "'a,b,,c'", "'Straße İSTANBUL ΣΑΣ ᾳ'"],
    "int": ["3", "0", "-7", "NULL", "42"],
    "num": ["2.5", "-0.75", "0.0", "NULL", "1e3"],
    "date": ["DATE '2024-02-29'", "DATE '2025-01-31'", "NULL", "DATE '2025-12-31'"],
    "ts": ["TIMESTAMP '2024-02-29 13:45:30.123456'", "TIMESTAMP '2025-01-31 00:00:00'", "NULL",
           "TIMESTAMP '2025-12-31 23:59:59.5'", "TIMESTAMP '1500-06-30 12:00:00'"],
    "tstz": ["TIMESTAMPTZ '2024-02-29 13:45:30.123456+00'", "NULL", "TIMESTAMPTZ '2025-01-31 23:00:00+00'"],
    "time": ["TIME '13:45:30.5'", "TIME '00:00:00'", "NULL"],
    "interval": ["INTERVAL '1 month 2 days 03:04:05'", "INTERVAL 90 MINUTE", "NULL", "INTERVAL '-1 year'"],
    "json": ["'{\"a\":{\"b\":[1,2,{\"c\":null}]},\"d\":\"x\",\"e\":null}'", "'[1,\"two\",{\"three\":3}]'", "'null'",
             "NULL", "'{\"k\":\"ñ\"}'", "'{\"d\":1,\"d\":[2,3]}'"],
    "bool": ["true", "false", "NULL"],
    "list": ["[1, 2, NULL, 3]", "[]", "['b', 'a', 'c']", "NULL", "[[1, 2], [3]]"],
    "struct": ["{'a': 1, 'b': 'x'}", "NULL", "{'k': [1, 2]}"],
    "map": ["MAP {'k': 1, 'l': 2}", "NULL"],
    "any": ["42", "'text'", "NULL", "2.5", "DATE '2024-02-29'"],
}
# Arguments chosen by the parameter's name, where any value of its type would be refused.
NAMED_POOLS = {
    "part": ["'year'", "'month'", "'day'", "'hour'", "'week'", "'quarter'", "'dow'", "'epoch'", "'minute'"],
    "format": ["'%Y-%m-%d %H:%M:%S'", "'%d/%m/%Y'", "'%Y-%m-%dT%H:%M:%S.%f'"],
    "pattern": ["'[a-z]+'", "'(\\w+) (\\w+)'", "'^h'", "'b'"],
    "regex": ["'[a-z]+'", "'(\\w+) (\\w+)'", "'^h'"],
    "path": ["'$.a.b'", "'$.d'", "'$.a.b[2].c'", "'$.missing'", "'$.e'"],
    "separator": ["','", "' '", "''"],
    "delimiter": ["','", "' '"],
    "characters": ["'ho'", "' '"],
    "timezone": ["'UTC'", "'America/New_York'"],
}
NAMED_POOLS["datepart"] = NAMED_POOLS["part"]
NAMED_POOLS["date_format"] = NAMED_POOLS["format"]

OUT_OF_SCOPE_NAMES = re.compile(
    r"^(pg_|has_.*privilege|current_(setting|schema|database|catalog|role|user|query|schemas|connection)|"
    r"duckdb_|version$|txid_|nextval|currval|setseed|getvariable|error$|col_description|obj_description|"
    r"shobj_description|format_type|icu_|in_search_path|array_to_json$|to_json$|row_to_json|"
    r"st_|geo|enum_|alias$|session_user|user$|parquet_|read_|create_sort_key|finalize|combine|"
    r"system|equi_width_bins|histogram|bit_|bitstring|xor$|get_bit|set_bit|from_binary|to_binary|"
    r"encode$|decode$|from_base64|to_base64|md5_number|sha|hash$|md5|crc|base64|unbin|bin$|unhex|hex$|"
    r"variant|union_|write_log|can_cast_implicitly|list_reduce|vector_type|is_histogram_other_bin|"
    r"stats$|constant_or_null|test_|remap_struct|cast_to_type|get_current_timestamp|current_localtime|"
    r"current_localtimestamp|try$|octet_length|bitstring_agg|approx_top_k|reservoir_quantile|"
    r"decimal_|transaction_timestamp|gamma$|lgamma|factorial|nfc_normalize|ucase|lcase|collate_|get_block_size|"
    r"hive_partition|parse_duckdb_log|timetz_byte|current_transaction_id|setval|sleep_ms|make_type|"
    r"unpivot_list|json_serialize|json_deserialize|json_copy_strftime)"
)
DATE_NAMES = re.compile(
    r"(^|_)(date|time|year|years|month|months|week|weeks|day|days|hour|hours|minute|minutes|second|seconds|"
    r"quarter|quarters|epoch|century|centuries|decade|decades|millennium|millennia|era|julian|strftime|"
    r"strptime|age|make|interval|extract|dayname|monthname|isodow|isoyear|yearweek|millisecond|"
    r"milliseconds|microsecond|microseconds|nanosecond|timezone|timestamp|today|dayofmonth|dayofweek|"
    r"dayofyear|weekday|weekofyear|datepart|datediff|datesub|datetrunc|bucket|ms|us|ns)($|_)"
)


def kind(t):
    t = (t or "ANY").upper()
    if t.endswith("]"):
        return "list"
    if t.startswith(("STRUCT", "TUPLE")):
        return "struct"
    if t.startswith("MAP"):
        return "map"
    return {
        "VARCHAR": "str", "BIGINT": "int", "INTEGER": "int", "SMALLINT": "int", "TINYINT": "int",
        "UBIGINT": "int", "UINTEGER": "int", "USMALLINT": "int", "UTINYINT": "int", "HUGEINT": "int",
        "UHUGEINT": "int", "DOUBLE": "num", "FLOAT": "num", "DECIMAL": "num", "DATE": "date",
        "TIMESTAMP": "ts", "TIMESTAMP WITH TIME ZONE": "tstz", "TIME": "time", "INTERVAL": "interval",
        "JSON": "json", "BOOLEAN": "bool",
    }.get(t, "any" if t in ("ANY", "T", "K", "V") else None)


def family(name, ftype, overloads, categories):
    types = {t for o in overloads for t in (o["params"] + [o["ret"]]) if t}
    if OUT_OF_SCOPE_NAMES.search(name) or any(c in categories for c in ("geometry", "blob", "bitstring", "variant")):
        return None
    if any(t in ("BLOB", "BIT", "GEOMETRY", "UUID", "BIGNUM", "VARIANT", "UNION", "LAMBDA") for t in types) and not any(
        kind(t) in ("str", "int", "num", "date", "ts", "list", "json") for o in overloads for t in o["params"]
    ):
        return None
    if ftype == "aggregate":
        return "aggregate"
    if ftype == "window":
        return "window"
    if "json" in name:
        return "json"
    if "regex" in name or "regex" in categories:
        return "regex"
    if {"list", "array"} & set(categories) or re.match(r"^(list|array|struct|map|unnest|flatten|row$|generate_series|range$)", name):
        return "list & struct"
    if DATE_NAMES.search(name) or any(kind(t) in ("date", "ts", "tstz", "time", "interval") for o in overloads for t in o["params"]):
        return "date & time"
    if name in ("coalesce", "ifnull", "nullif", "greatest", "least", "typeof", "if", "iff", "ifelse",
                "isnull", "notnull", "nvl", "nvl2"):
        return "conditional & generic"
    if "string" in categories or "text_similarity" in categories or all(
        kind(t) == "str" for o in overloads for t in o["params"] if t
    ) and any(o["params"] for o in overloads):
        return "string"
    if "numeric" in categories or any(kind(t) in ("int", "num") for o in overloads for t in o["params"] + [o["ret"]]):
        return "math"
    if ftype == "macro":
        return None
    return None


def argument_lists(name, overload):
    pools = []
    for pname, ptype in itertools.zip_longest(overload["param_names"], overload["params"]):
        pname = (pname or "").lower()
        if pname in NAMED_POOLS:
            pools.append(NAMED_POOLS[pname])
        else:
            pools.append(POOLS.get(kind(ptype), POOLS["any"]))
    if not pools:
        return [[]]
    longest = max(len(p) for p in pools)
    return [[p[(k + i) % len(p)] for i, p in enumerate(pools)] for k in range(longest)]


def cases_for(name, ftype, overloads, examples):
    sqls = []
    for example in examples:
        if ftype in ("aggregate", "window"):
            continue
        sqls.append(f"SELECT {example} AS v")
    for overload in overloads:
        for args in argument_lists(name, overload):
            if ftype == "aggregate":
                columns = [COLUMN_FOR.get(kind(t), "i") for t in overload["params"]]
                # Constant arguments after the first (quantile fractions, separators) stay literal.
                call_args = [columns[0]] + args[1:] if columns else []
                call = f"{name}({', '.join(call_args)})"
                sqls.append(f"SELECT {call} AS v FROM {TABLE}")
                sqls.append(f"SELECT g, {call} AS v FROM {TABLE} GROUP BY g ORDER BY g")
            elif ftype == "window":
                columns = [COLUMN_FOR.get(kind(t), "i") for t in overload["params"]]
                call = f"{name}({', '.join(columns[:1] + args[1:])})"
                sqls.append(f"SELECT i, {call} OVER (ORDER BY i) AS v FROM {TABLE} ORDER BY i")
                sqls.append(f"SELECT i, {call} OVER (PARTITION BY g ORDER BY d DESC) AS v FROM {TABLE} ORDER BY i")
            else:
                sqls.append(f"SELECT {name}({', '.join(args)}) AS v")
    seen, unique = set(), []
    for sql in sqls:
        if sql not in seen:
            seen.add(sql)
            unique.append(sql)
    return unique


CAST_TYPES = ["VARCHAR", "TEXT", "STRING", "INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "UBIGINT",
              "UINTEGER", "HUGEINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL(10,2)", "NUMERIC(18,3)", "BOOLEAN",
              "BOOL", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIME", "INTERVAL",
              "JSON", "UUID", "DATETIME", "INT64", "INT4", "FLOAT8", "VARCHAR[]", "INTEGER[]"]
CAST_VALUES = ["'42'", "'-7'", "'2.5'", "3.75", "42", "'2024-02-29'", "'2024-02-29 13:45:30.123456'",
               "'true'", "NULL", "'1 day'", "'[1, 2]'", "'{\"a\": 1}'", "DATE '2025-01-31'",
               "TIMESTAMP '2025-01-31 10:00:00'", "'ñ'", "1e10", "'550e8400-e29b-41d4-a716-446655440000'"]


def cast_cases():
    for t in CAST_TYPES:
        cases = [f"SELECT CAST({v} AS {t}) AS v" for v in CAST_VALUES]
        cases += [f"SELECT TRY_CAST({v} AS {t}) AS v" for v in CAST_VALUES[:6]]
        cases += [f"SELECT {v}::{t} AS v" for v in CAST_VALUES[:3]]
        yield f"CAST AS {t}", cases


def duckdb_answer(con, sql):
    try:
        rows = con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ({sql}) q").fetchall()
        types = con.execute(f"SELECT typeof(COLUMNS(*)) FROM ({sql}) q LIMIT 1").fetchall()
    except Exception:
        return None
    if not rows:
        types = [[d[1] for d in con.execute(f"DESCRIBE {sql}").fetchall()]]
    return {"rows": [list(r) for r in rows], "types": list(types[0])}


def reads_the_clock(name, sql):
    """A stable function that reads today's date at this arity: `age(ts)` is the age now."""
    if name != "age":
        return False
    inside = sql[sql.index("(") + 1 : sql.rindex(")")]
    depth, commas = 0, 0
    for c in inside:
        depth += c in "(["
        depth -= c in ")]"
        commas += c == "," and depth == 0
    return commas == 0


def main():
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=1")
    catalogue = con.execute(
        """SELECT function_name, function_type, any_value(categories), list(DISTINCT stability),
                  list({'params': parameter_types, 'names': parameters, 'ret': return_type}),
                  flatten(list(examples))
           FROM duckdb_functions()
           WHERE function_type IN ('scalar', 'aggregate', 'window', 'macro')
             AND schema_name = 'main' AND NOT function_name LIKE '\\_\\_%' ESCAPE '\\'
             AND function_name NOT IN ('~~', '!~~', '~~~', '!~~*', '~~*', '^@', '@>', '<@', '&&', '||')
             AND regexp_matches(function_name, '^[a-z_][a-z0-9_]*$')
           GROUP BY ALL ORDER BY function_name"""
    ).fetchall()
    entries = []
    scope = {}
    for name, ftype, categories, stabilities, overloads, examples in catalogue:
        overloads = [
            {"params": o["params"] or [None] * len(o["names"] or []), "param_names": o["names"] or [], "ret": o["ret"]}
            for o in overloads
        ]
        fam = family(name, ftype, overloads, categories or [])
        scope[name] = fam
        if fam is None:
            continue
        # Only the current time and random numbers change between runs; an overload that depends
        # on the session's time zone (fixed to UTC here) does not make the others so.
        volatile = all(s in ("VOLATILE", "CONSISTENT_WITHIN_QUERY") for s in stabilities if s) and any(stabilities)
        entries.append((name, fam, volatile, cases_for(name, ftype, overloads, sorted(set(examples or [])))))
    for name, cases in cast_cases():
        entries.append((name, "cast", False, cases))
    written = 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        for name, fam, volatile, cases in entries:
            kept = 0
            answered = []
            for sql in cases:
                answer = duckdb_answer(con, sql)
                if answer is None or sum(len(str(c)) for r in answer["rows"] for c in r) > 2000:
                    continue
                answered.append((sql, answer))
            # Keep the examples and a spread of the generated cases.
            for sql, answer in answered[:CASES_PER_FUNCTION]:
                by_type = volatile or reads_the_clock(name, sql)
                record = {"entry": name, "family": fam, "sql": sql, "compare": "type" if by_type else "value", **answer}
                if by_type:
                    # Only the type is compared: values that change from run to run are not kept.
                    record["rows"] = []
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                kept += 1
            if kept == 0:
                # DuckDB answered none of the generated cases: recorded so that the entry is still classified.
                out.write(json.dumps({"entry": name, "family": fam, "sql": None}, ensure_ascii=False) + "\n")
            written += kept
    out_of_scope = sorted(n for n, f in scope.items() if f is None)
    print(f"{len(entries)} entries in scope, {written} cases; {len(out_of_scope)} functions out of scope", file=sys.stderr)


if __name__ == "__main__":
    main()
