#!/usr/bin/env python3
"""Reads a controller log (--log-format text or json) and checks every line: a time, a level, a constant message
and key=value fields. Prints "lines=N messages=M" and the distinct messages; with --need KEY=MSG, that some line of
message MSG has field KEY. Exits 1 naming the first line that does not parse."""
import argparse
import json
import re
import sys

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
LEVEL = r"(debug|info |info|warn |warn|error)"
VALUE = r'("(?:[^"\\]|\\.)*"|[^ "=]+)'
FIELD = re.compile(r" ([A-Za-z][A-Za-z0-9]*)=" + VALUE)
TEXT_LINE = re.compile(r"^(" + TIME + r") " + LEVEL + r" (.*)$")


def text_fields(rest):
    """Splits "MESSAGE key=value ..." from the right: the message, then the fields."""
    fields = {}
    while True:
        m = re.search(r" ([A-Za-z][A-Za-z0-9]*)=" + VALUE + r"$", rest)
        if not m:
            return rest, fields
        value = m.group(2)
        if value.startswith('"'):
            value = json.loads(value) if "\\x" not in value else value[1:-1]
        fields[m.group(1)] = value
        rest = rest[: m.start()]


def parse(line, fmt):
    if fmt == "json":
        o = json.loads(line)
        if not isinstance(o, dict) or not {"time", "level", "msg"} <= o.keys():
            raise ValueError("no time, level and msg")
        if not all(isinstance(v, str) for v in o.values()):
            raise ValueError("a field that is not a string")
        return o["msg"], {k: v for k, v in o.items() if k not in ("time", "level", "msg")}
    m = TEXT_LINE.match(line)
    if not m:
        raise ValueError("not TIME LEVEL MESSAGE")
    message, fields = text_fields(m.group(4))
    if "=" in message or message != message.strip() or not message:
        raise ValueError("the message holds a field or is empty: %r" % message)
    return message, fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    ap.add_argument("--need", action="append", default=[], help="KEY=MESSAGE")
    a = ap.parse_args()
    messages, seen = {}, set()
    count = 0
    with open(a.log, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            try:
                message, fields = parse(line, a.format)
            except (ValueError, json.JSONDecodeError) as e:
                print("line %d does not parse (%s): %s" % (n, e, line[:200]))
                return 1
            count += 1
            messages[message] = messages.get(message, 0) + 1
            for key in fields:
                seen.add((key, message))
    missing = [need for need in a.need if tuple(need.split("=", 1)) not in seen]
    print("lines=%d messages=%d" % (count, len(messages)))
    for message in sorted(messages):
        print("  %s" % message)
    if missing:
        print("missing fields: " + " ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
