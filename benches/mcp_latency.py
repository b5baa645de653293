"""Latency of a warm MCP `query` tool call against a whole `query --json` process for the same SQL.

Usage: python3 benches/mcp_latency.py BINARY CACHE_DIR   (a release build; the demo week is cached
first). Prints the medians and p90 of 50 calls alternated in one run, and their ratio.
"""
import asyncio, statistics, subprocess, sys, time
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
B, CACHE = sys.argv[1], sys.argv[2]
SQL = "SELECT type, count(*) AS n FROM activity GROUP BY ALL ORDER BY n DESC"
ARGS = {"sql": SQL, "start_date": "2025-10-01", "end_date": "2025-10-07"}
G = ["--demo", "--cache-dir", CACHE]
subprocess.run([B, *G, "query", "--start-date", "2025-10-01", "--end-date", "2025-10-07", "--json", "--sql", SQL], capture_output=True, check=True)
def process():
    t = time.monotonic()
    subprocess.run([B, *G, "query", "--start-date", "2025-10-01", "--end-date", "2025-10-07", "--json", "--sql", SQL], capture_output=True, check=True)
    return time.monotonic() - t
async def main():
    async with stdio_client(StdioServerParameters(command=B, args=[*G, "mcp"])) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            await s.call_tool("query", ARGS)
            tool, whole = [], []
            for _ in range(50):
                t = time.monotonic(); res = await s.call_tool("query", ARGS); tool.append(time.monotonic() - t)
                assert not res.is_error
                whole.append(process())
    print(f"tool call median {statistics.median(tool)*1000:.1f} ms (p90 {sorted(tool)[44]*1000:.1f}); whole process query --json median {statistics.median(whole)*1000:.1f} ms (p90 {sorted(whole)[44]*1000:.1f}); ratio {statistics.median(tool)/statistics.median(whole):.2f}")
asyncio.run(main())
