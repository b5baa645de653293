"""Drives `carto-activity mcp` with the official MCP Python client (the `mcp` package) and
prints, as one JSON object, what each step answered. Used by tests/cli/mcp.rs.

Usage: mcp_client.py BINARY CACHE_DIR START END
"""
import asyncio
import json
import os
import statistics
import sys
import time

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BINARY, CACHE, START, END = (sys.argv[1:5] + [""] * 4)[:4]
RANGE = {"start_date": START, "end_date": END}
EVENTS = "2000"


def result(res):
    return {
        "is_error": bool(res.is_error),
        "structured": res.structured_content,
        "text": "\n".join(c.text for c in res.content if getattr(c, "text", None) is not None),
    }


def server_cpu_seconds():
    """CPU seconds used so far by the server process (found by its cache folder)."""
    import os
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            if CACHE.encode() in cmdline and b"mcp" in cmdline:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


async def server_cpu(seconds):
    """The cores the server keeps busy over `seconds` while idle: 0 once a query stopped."""
    before = server_cpu_seconds()
    await anyio.sleep(seconds)
    return (server_cpu_seconds() - before) / seconds


async def main():
    params = StdioServerParameters(
        command=BINARY,
        # Exports and the report go beside the cache: the server may write there.
        args=["--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "mcp", "--write-root", os.path.dirname(CACHE)],
    )
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            out["tools"] = {t.name: t.input_schema for t in tools.tools}
            sql = "SELECT type, count(*) AS n, min(ts) AS first FROM activity GROUP BY ALL ORDER BY n DESC, type"
            out["query"] = result(await session.call_tool("query", {"sql": sql, **RANGE, "max_rows": 100000}))
            out["truncated"] = result(await session.call_tool("query", {"sql": sql, **RANGE, "max_rows": 3}))
            out["two"] = result(await session.call_tool("query", {"sql": "SELECT 1 AS a; SELECT 2 AS b", **RANGE}))
            out["write"] = result(await session.call_tool("query", {"sql": "DROP TABLE activity", **RANGE}))
            out["unknown_table"] = result(await session.call_tool("query", {"sql": "SELECT * FROM nowhere", **RANGE}))
            out["bad_date"] = result(await session.call_tool("query", {"sql": "SELECT 1", "start_date": "2025-13-01", "end_date": END}))
            out["after_errors"] = result(await session.call_tool("query", {"sql": "SELECT 42 AS answer", **RANGE}))
            out["typo"] = result(await session.call_tool("query", {"sql": "SELECT count(*) AS n FROM activity WHERE type = 'MapCreatd'", **RANGE}))
            out["tables"] = result(await session.call_tool("tables", {}))
            out["event_types"] = result(await session.call_tool("event_types", RANGE))
            out["json_keys"] = result(await session.call_tool("json_keys", {"event_type": "MapCreated", **RANGE}))
            out_dir = CACHE + "-exports"
            out["export"] = result(await session.call_tool("export", {**RANGE, "categories": ["activity", "userList"], "format": "csv", "output_dir": out_dir}))
            out["export_again"] = result(await session.call_tool("export", {**RANGE, "categories": ["activity"], "format": "csv", "output_dir": out_dir}))
            out["report"] = result(await session.call_tool("report", {**RANGE, "output": out_dir + "/report.html"}))
            resources = await session.list_resources()
            out["resources"] = [str(r.uri) for r in resources.resources]
            compat = await session.read_resource("carto-activity://duckdb-compatibility")
            out["compatibility"] = compat.contents[0].text
            # A long query, cancelled by the client after half a second: the server stops it
            # and answers the next call at once.
            slow = "SELECT count(*) FROM activity a, activity b, activity c WHERE length(a.data || b.data || c.data) > 0"
            started = time.monotonic()
            with anyio.move_on_after(0.5):
                await session.call_tool("query", {"sql": slow, **RANGE})
            quick = result(await session.call_tool("query", {"sql": "SELECT 7 AS seven", **RANGE}))
            seconds = time.monotonic() - started
            await anyio.sleep(0.5)
            out["after_cancel"] = {"seconds": seconds, "server_cpu": await server_cpu(1.0), **quick}
            # Latency of a warm call, one server process.
            times = []
            for _ in range(int(sys.argv[5]) if len(sys.argv) > 5 else 10):
                t = time.monotonic()
                await session.call_tool("query", {"sql": "SELECT count(*) AS n FROM activity", **RANGE})
                times.append(time.monotonic() - t)
            out["warm_call_median_ms"] = statistics.median(times) * 1000
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    asyncio.run(main())
