"""Reads back what `carto-activity sync` wrote, with readers carto-activity has no part in.

Usage: sync_reader.py delta TABLE_URI APP_ID [S3_ENDPOINT]   (delta-rs's Python package, via pyarrow)
       sync_reader.py parquet TABLE_DIR                     (DuckDB over the hive layout)

Prints one JSON object: rows, rows per `date`, the columns with their types, and for Delta the
version, partition columns and the application transaction version of APP_ID.
"""

import json
import os
import sys


def delta(uri, app_id, endpoint=None):
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    options = None
    if endpoint:
        options = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
        }
    table = DeltaTable(uri, storage_options=options)
    data = table.to_pyarrow_table()
    per_day = {}
    if "date" in data.column_names:
        counts = pc.value_counts(data["date"]).to_pylist()
        per_day = {str(c["values"]): c["counts"] for c in counts}
    metadata = table.metadata()
    return {
        "version": table.version(),
        "rows": data.num_rows,
        "per_day": per_day,
        "columns": [[f.name, str(f.type)] for f in data.schema],
        "partition_columns": list(metadata.partition_columns),
        "description": metadata.description,
        "transaction_version": table.transaction_version(app_id),
        "files": len(table.file_uris()),
    }


def parquet(directory):
    import duckdb

    con = duckdb.connect()
    hive = "date=" in "".join(__import__("os").listdir(directory))
    pattern = f"{directory}/*/*.parquet" if hive else f"{directory}/*.parquet"
    relation = con.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = {str(hive).lower()})")
    columns = [[name, str(kind)] for name, kind in zip(relation.columns, relation.types)]
    rows = con.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()[0][0]
    per_day = {}
    if hive:
        for day, count in con.sql(
            f"SELECT date::VARCHAR, count(*) FROM read_parquet('{pattern}', hive_partitioning = true) GROUP BY 1"
        ).fetchall():
            per_day[day] = count
    return {"rows": rows, "per_day": per_day, "columns": columns}


if __name__ == "__main__":
    kind = sys.argv[1]
    result = delta(*sys.argv[2:]) if kind == "delta" else parquet(sys.argv[2])
    print(json.dumps(result), flush=True)
    # The answer is out: leave without the interpreter's teardown, where the native threads of
    # deltalake and pyarrow have once aborted the process ("terminate called without an active
    # exception") on a loaded machine.
    os._exit(0)
