"""Drives `carto-activity mcp` as a careless or steered agent would, with the official MCP Python
client (the `mcp` package), and then with raw lines no client library would send. Prints one
JSON object of what each step answered and what it did to the disk, for tests/cli/mcp.rs.

Usage: mcp_hostile.py BINARY ROOT START END

ROOT is a fresh folder: the server's write root is ROOT/work, its cache ROOT/work/cache, and
ROOT/outside stands for every file an agent must not reach.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_client import result

BINARY, ROOT, START, END = sys.argv[1:5]
RANGE = {"start_date": START, "end_date": END}
WORK = os.path.join(ROOT, "work")
OUTSIDE = os.path.join(ROOT, "outside")
CACHE = os.path.join(WORK, "cache")
EVENTS = "2000"


def server(extra=(), env=None):
    args = ["--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "mcp", *extra]
    return StdioServerParameters(command=BINARY, args=args, cwd=WORK, env=env)


class MetadataTrap:
    """A listener standing for the cloud's instance-metadata service: it counts connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.running = True
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]


async def confined(out):
    os.makedirs(OUTSIDE, exist_ok=True)
    victim = os.path.join(OUTSIDE, "victim.txt")
    with open(victim, "w") as f:
        f.write("keep me")
    notes = os.path.join(WORK, "notes.txt")
    with open(notes, "w") as f:
        f.write("my notes")
    os.symlink(OUTSIDE, os.path.join(WORK, "escape"))
    os.symlink(victim, os.path.join(WORK, "link.html"))
    async with stdio_client(server()) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            call = lambda name, args: session.call_tool(name, {**RANGE, **args})
            out["report_outside"] = result(await call("report", {"output": victim}))
            out["report_up"] = result(await call("report", {"output": "../outside/up.html"}))
            out["report_link"] = result(await call("report", {"output": "link.html"}))
            out["report_notes"] = result(await call("report", {"output": "notes.txt"}))
            out["report_cache"] = result(await call("report", {"output": "cache/v3/manifest.json"}))
            out["report_new"] = result(await call("report", {"output": "reports/week.html"}))
            out["report_again"] = result(await call("report", {"output": "reports/week.html"}))
            for name, target in [("etc", "/etc/carto-x"), ("up", "../x"), ("link", "escape/x"), ("tilde", "~/x"), ("s3", "s3://bucket/x")]:
                out["export_" + name] = result(await call("export", {"categories": ["groupList"], "output_dir": target}))
            out["export_inside"] = result(await call("export", {"categories": ["groupList"], "output_dir": "exports"}))
            out["categories_empty"] = result(await call("export", {"categories": [], "output_dir": "empty"}))
            out["date_number"] = result(await session.call_tool("query", {"sql": "SELECT 1", "start_date": 20251001, "end_date": END}))
            # Four queries at once on days no one fetched yet: each waits its turn, none fails.
            for round in range(6):
                day = "2025-11-%02d" % (10 + round)
                sql = "SELECT count(*) AS n FROM activity"
                calls = [session.call_tool("query", {"sql": sql, "start_date": day, "end_date": day}) for _ in range(4)]
                out["concurrent_%d" % round] = [result(r) for r in await asyncio.gather(*calls)]
    out["victim"] = open(victim).read()
    out["notes"] = open(notes).read()
    out["link_is_link"] = os.path.islink(os.path.join(WORK, "link.html"))
    out["tilde_made"] = os.path.exists(os.path.join(WORK, "~"))
    out["outside_files"] = sorted(os.listdir(OUTSIDE))
    out["report_new_starts"] = open(os.path.join(WORK, "reports/week.html")).read(60)


async def object_stores(out):
    """Allowed by the operator, but without credentials: refused before any request is made."""
    trap = MetadataTrap()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_METADATA_ENDPOINT=trap.url, AWS_REGION="us-east-1")
    async with stdio_client(server(["--allow-object-stores"], env)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            out["s3_allowed"] = result(await session.call_tool("export", {**RANGE, "categories": ["groupList"], "output_dir": "s3://bucket/x"}))
    await anyio.sleep(0.5)
    trap.running = False
    out["metadata_connections"] = trap.connections


def raw_protocol(out):
    """Lines no client library sends: each gets JSON-RPC's answer, and the server goes on."""
    proc = subprocess.Popen(
        [BINARY, "--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "mcp"],
        cwd=WORK, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    answers = []
    done = threading.Event()

    def reader():
        for line in proc.stdout:
            answers.append(json.loads(line))
        done.set()

    threading.Thread(target=reader, daemon=True).start()

    def send(data):
        proc.stdin.write(data)
        proc.stdin.flush()

    def answer(id_, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for a in answers:
                if a.get("id") == id_ and ("result" in a or "error" in a):
                    answers.remove(a)
                    return a
            time.sleep(0.05)
        return None

    send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}).encode() + b"\n")
    out["raw_initialize"] = answer(1) is not None
    send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    send(b"this is not json\n")
    out["raw_garbage"] = answer(None)
    send(b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1","max_rows":NaN}}}\n')
    out["raw_nan"] = answer(None)
    send(b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tables","arguments":{"x":"\xff\xfe"}}}\n')
    out["raw_utf8"] = answer(None)
    send(b'{"jsonrpc":"2.0","id":4,"method":"tools/call"}\r\n')
    out["raw_no_params"] = answer(4)
    send(b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"tables","arguments":{}}}\n')
    out["raw_after"] = answer(5)
    proc.stdin.close()
    done.wait(30)
    out["raw_exit"] = proc.wait(30)


async def main():
    out = {}
    os.makedirs(WORK, exist_ok=True)
    await confined(out)
    await object_stores(out)
    raw_protocol(out)
    print(json.dumps(out, default=str))


asyncio.run(main())
