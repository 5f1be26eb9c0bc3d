"""Per-test seconds for scheduling: `python tests/durations.py LOG...` reads the `--durations`
tables of pytest logs (setup + call + teardown per test) and rewrites tests/durations.json.

conftest.py orders the test files by these seconds, longest first, so that pytest-xdist's two
workers do not end a run with one long file left on one worker (longest-processing-time-first
scheduling). Stale figures only make the order worse, never a result different.
"""

import collections
import json
import os
import re
import sys

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "durations.json")
_LINE = re.compile(r"^\s*([\d.]+)s (?:setup|call|teardown)\s+(tests/\S+)\s*$")


def parse(lines) -> dict[str, float]:
    seconds = collections.Counter()
    for line in lines:
        match = _LINE.match(line)
        if match:
            seconds[match.group(2)] += float(match.group(1))
    return {test: round(s, 2) for test, s in sorted(seconds.items())}


def main(logs: list[str]) -> None:
    seconds = {}
    for log in logs:
        with open(log) as f:
            seconds.update(parse(f))
    with open(PATH, "w") as f:
        json.dump(dict(sorted(seconds.items())), f, indent=0)
        f.write("\n")
    print(f"{len(seconds)} tests, {sum(seconds.values()):.0f} s, written to {PATH}")


if __name__ == "__main__":
    main(sys.argv[1:])
