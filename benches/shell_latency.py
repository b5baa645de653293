"""The shell's start-up and completion latency, through a pseudo-terminal.

Usage: python3 benches/shell_latency.py BINARY CACHE_DIR EVENTS_PER_DAY START END [RUNS]

The demo range must be cached already (run a `query` over it first). Each run starts `shell`
(the time to its first prompt), types a statement filtering on an event type not sampled in that
session and `data->>'user`, presses TAB and times until the key `userId` is shown (the payload
sample included). Prints the medians and every run.
"""

import os
import re
import statistics
import sys
import tempfile
import time

import pexpect

BINARY, CACHE, EVENTS, START, END = sys.argv[1:6]
RUNS = int(sys.argv[6]) if len(sys.argv) > 6 else 7
PROMPT = r"carto(?:\x1b\[[0-9;?]*[A-Za-z])*> "
TYPES = ["WorkflowRun", "MapLoadedEvent", "MapCreated", "UserLogins", "AIRequest", "ImportStarted", "ConnectionTested"]


def main():
    state = tempfile.mkdtemp()
    starts, keys = [], []
    for run in range(RUNS):
        env = dict(os.environ, XDG_STATE_HOME=state, TERM="xterm-256color")
        args = ["--demo", "--demo-events-per-day", EVENTS, "--cache-dir", CACHE, "shell", "--start-date", START,
                "--end-date", END, "--no-history"]
        began = time.monotonic()
        child = pexpect.spawn(BINARY, args, env=env, encoding="utf-8", dimensions=(50, 200))

        def wait_for(pattern, timeout=60):
            # Answers the cursor-position queries a terminal would.
            while child.expect([pattern, re.escape("\x1b[6n")], timeout=timeout) == 1:
                child.send("\x1b[1;1R")

        wait_for(PROMPT)
        starts.append(time.monotonic() - began)
        child.send(f"SELECT count(*) FROM activity WHERE type = '{TYPES[run % len(TYPES)]}' AND data->>'user")
        time.sleep(0.5)
        try:
            child.expect("never shown", timeout=0.3)
        except pexpect.TIMEOUT:
            pass
        began = time.monotonic()
        child.send("\t")
        wait_for(r"user(?:\x1b\[[0-9;]*m)*Id", timeout=20)  # the menu styles the typed part
        keys.append(time.monotonic() - began)
        child.close(force=True)
    ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} ms ({', '.join(f'{x * 1000:.0f}' for x in xs)})"
    print(f"start-up to the first prompt: {ms(starts)}")
    print(f"TAB to the JSON keys of a type not sampled yet: {ms(keys)}")


if __name__ == "__main__":
    main()
