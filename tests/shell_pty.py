"""Drives `carto-activity shell` through a pseudo-terminal, as a person at a keyboard would.

Usage: shell_pty.py BINARY CACHE_DIR STATE_DIR START END EVENTS_PER_DAY

Answers the terminal's cursor-position queries (no terminal emulator does it here), types
statements, presses TAB, Ctrl-C, arrow-up and Ctrl-D, and prints one JSON object of what each
step showed (text without escape sequences) for tests/cli/shell.rs to check.
"""

import json
import os
import re
import subprocess
import sys
import time

import pexpect

BINARY, CACHE, STATE, START, END, EVENTS = sys.argv[1:7]
CURSOR_QUERY = "\x1b[6n"
# The prompt as painted: `carto`, maybe colour codes, `> `.
PROMPT = r"carto(?:\x1b\[[0-9;?]*[A-Za-z])*> "
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>78]|\r")


def spawn(state=STATE):
    env = dict(os.environ, XDG_STATE_HOME=state, TERM="xterm-256color", NO_COLOR="1")
    args = ["--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "shell", "--start-date", START, "--end-date", END]
    child = pexpect.spawn(BINARY, args, env=env, encoding="utf-8", dimensions=(50, 200), timeout=60)
    if os.environ.get("SHELL_PTY_LOG"):
        child.logfile_read = open(os.environ["SHELL_PTY_LOG"], "a")
    return child


def wait_for(child, pattern, timeout=60):
    """Everything shown until `pattern`, answering cursor queries on the way."""
    seen = ""
    deadline = time.monotonic() + timeout
    while True:
        left = max(0.1, deadline - time.monotonic())
        index = child.expect([pattern, re.escape(CURSOR_QUERY)], timeout=left)
        seen += child.before + child.after
        if index == 1:
            child.send("\x1b[1;1R")
            continue
        return ESCAPES.sub("", seen)


def run(child, text, until=r"int\d\d"):
    """Types `text`, presses Enter, and returns what was shown up to `until` (something only
    the answer shows: the editor repaints the prompt as it is typed on) and the next prompt."""
    child.send(text)
    child.send("\r")
    return wait_for(child, until) + wait_for(child, PROMPT)


report = {}
child = spawn()
report["banner"] = wait_for(child, "Ctrl-D leaves") + wait_for(child, PROMPT)

report["count"] = run(child, "SELECT count(*) AS n FROM activity;")

# TAB completes a table name, an event type and a JSON key: the statements only run if it did.
child.send("SELECT count(*) AS tables_done FROM acti")
child.send("\t")
time.sleep(0.5)
report["table_completion"] = run(child, ";")

child.send("SELECT count(*) AS types_done FROM activity WHERE type = 'MapLo")
child.send("\t")
time.sleep(1)
report["type_completion"] = run(child, ";")

child.send("SELECT count(data->>'loadT")
child.send("\t")
time.sleep(1)
report["key_completion"] = run(child, ") AS keys_done FROM activity;")

report["tables"] = run(child, ".tables", "groupList")
report["error"] = run(child, "SELECT * FROM nowhere;", "error:")
report["after_error"] = run(child, "SELECT 6 * 7 AS after_error;")
report["multi_line"] = run(child, "SELECT 1 AS one,\r  2 AS two;")
wide = ", ".join(f"'{'x' * 40}' AS column_{i}" for i in range(8))
report["wide"] = run(child, f"SELECT 1 AS first, {wide}, 2 AS last;")

# The shell holds the cache lease: another process's `cache clear` waits, and says so.
clear = subprocess.Popen([BINARY, "--cache-dir", CACHE, "cache", "clear"], stderr=subprocess.PIPE, text=True)
time.sleep(3)
report["clear_waited"] = clear.poll() is None

def interrupt(step, line, after):
    """Enters `line`, presses Ctrl-C `after` seconds later, and records what was shown until the
    next prompt and how long that took."""
    child.send(line + "\r")
    time.sleep(after)
    began = time.monotonic()
    child.send("\x03")
    report[step] = wait_for(child, "interrupted", timeout=60) + wait_for(child, PROMPT)
    report[step.replace("interrupted", "interrupt") + "_seconds"] = time.monotonic() - began


# Ctrl-C during a long statement: back at the prompt, the shell still answers.
interrupt("interrupted", "SELECT count(*) AS never FROM range(100000000000) t(x) WHERE x % 7 = 3;", 1.5)
# Ctrl-C one second into a join that keeps every core busy, after earlier statements: heard.
interrupt("join_interrupted", "SELECT count(DISTINCT a.ts + (b.ts - c.ts)) AS joined FROM activity a, activity b, activity c;", 1)
# Ctrl-C during the fetch of a long range: the fetch stops and the range stays.
interrupt("range_interrupted", ".range 2023-01-01 2025-06-30", 1)
report["range_kept"] = run(child, "SELECT min(ts)::DATE || ' ' || max(ts)::DATE AS kept_range FROM activity;", r"\d{4}-\d\d-\d\d \d{4}")

# Lines typed ahead while a statement runs, ending in LF or CRLF as a terminal or a paste
# sends them: each runs, in order.
child.send("SELECT count(*) AS slow_one FROM range(300000000) t(x) WHERE x % 7 = 3;\r")
time.sleep(0.5)
child.send("SELECT 'typed' || 'ahead' AS first_ahead;\r\nSELECT 'and' || 'more' AS second_ahead;\n")
report["typed_ahead"] = wait_for(child, "andmore", timeout=60) + wait_for(child, PROMPT)

# Ctrl-C twice on an empty line does nothing harmful.
# (Each waits for the next prompt: typing ahead of a terminal's cursor report can be lost.)
for _ in range(2):
    child.send("\x03")
    wait_for(child, PROMPT)
report["after_interrupt"] = run(child, "SELECT 40 + 2 AS answer;")

child.send("\x04")
child.expect(pexpect.EOF, timeout=30)
child.close()
report["exit_status"] = child.exitstatus
report["clear_said"] = clear.communicate(timeout=60)[1]
report["clear_status"] = clear.returncode

# History survives a restart: arrow-up recalls the last statement.
child = spawn()
wait_for(child, "Ctrl-D leaves")
wait_for(child, PROMPT)
child.send("\x1b[A")
time.sleep(0.3)
report["recalled"] = run(child, "")
child.send("\x04")
child.expect(pexpect.EOF, timeout=30)
child.close()
report["second_exit_status"] = child.exitstatus

# A history file that is a link to another file: neither followed nor changed, and said so.
linked_state = STATE + "-linked"
os.makedirs(os.path.join(linked_state, "carto-activity"))
victim = os.path.join(linked_state, "victim.txt")
with open(victim, "w") as f:
    f.write("keep me")
os.chmod(victim, 0o644)
os.symlink(victim, os.path.join(linked_state, "carto-activity", "history"))
child = spawn(linked_state)
report["linked_banner"] = wait_for(child, "Ctrl-D leaves") + wait_for(child, PROMPT)
run(child, "SELECT 5 AS linked;", "linked")
child.send("\x04")
child.expect(pexpect.EOF, timeout=30)
child.close()
report["victim"] = open(victim).read()
report["victim_mode"] = oct(os.stat(victim).st_mode & 0o777)

print(json.dumps(report))
