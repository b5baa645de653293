"""The shell's start-up and completion latency, through a pseudo-terminal.

Usage: python3 benches/shell_latency.py BINARY CACHE_DIR START END EVENTS_PER_DAY [RUNS]

The range must be cached already (run a `query` over it first). Prints, as medians of RUNS
(default 7): the time from starting `shell` to its first prompt, and the time from TAB to the
menu of JSON keys for an event type not sampled before (the sample query included), then for one
sampled already.
"""

import os
import re
import statistics
import sys
import tempfile
import time

import pexpect

BINARY, CACHE, START, END, EVENTS = sys.argv[1:6]
RUNS = int(sys.argv[6]) if len(sys.argv) > 6 else 7
PROMPT = r"carto(?:\x1b\[[0-9;?]*[A-Za-z])*> "
CURSOR_QUERY = re.escape("\x1b[6n")
# Event types of the demo with different keys, one per run.
TYPES = ["WorkflowRun", "MapLoadedEvent", "MapCreated", "UserLogins", "AIRequest", "ImportStarted",
         "ConnectionTested", "TokenCreated", "MapShared", "WorkflowCreated"]
KEYS = {"WorkflowRun": "runDuration", "MapLoadedEvent": "loadTimeMs"}


def wait_for(child, pattern):
    while child.expect([pattern, CURSOR_QUERY], timeout=120) == 1:
        child.send("\x1b[1;1R")


def spawn(state):
    env = dict(os.environ, XDG_STATE_HOME=state, TERM="xterm-256color")
    args = ["--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "shell", "--start-date", START,
            "--end-date", END, "--no-history"]
    return pexpect.spawn(BINARY, args, env=env, encoding="utf-8", dimensions=(50, 200))


def main():
    state = tempfile.mkdtemp()
    starts, cold, warm = [], [], []
    for run in range(RUNS):
        began = time.monotonic()
        child = spawn(state)
        wait_for(child, PROMPT)
        starts.append(time.monotonic() - began)
        event_type = TYPES[run % len(TYPES)]
        child.send(f"SELECT count(*) FROM activity WHERE type = '{event_type}' AND data->>'user")
        time.sleep(0.2)
        for into in (cold, warm):
            began = time.monotonic()
            child.send("\t")
            wait_for(child, "userId'")
            into.append(time.monotonic() - began)
            time.sleep(0.3)
            child.send("\x7f" * len("Id'"))  # back to `'user`, for the next TAB
            time.sleep(0.3)
            child.expect([pexpect.TIMEOUT], timeout=0.2)  # drain the repaint
        child.sendcontrol("c")
        child.sendcontrol("d")
        child.expect(pexpect.EOF, timeout=30)
    ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} ms"
    print(f"start-up to the first prompt: {ms(starts)} (median of {RUNS}: {', '.join(f'{s * 1000:.0f}' for s in starts)})")
    print(f"TAB to JSON keys, type not sampled yet: {ms(cold)}; sampled already: {ms(warm)}")


if __name__ == "__main__":
    main()
