#!/usr/bin/env python3
"""The fenced code blocks of Markdown files, for tests/integration/test_docs.sh: one JSON object a line with the
file, the fence's line number, the language, the docs-test marker (the HTML comment on the line just above the
fence: `<!-- docs-test: run -->` or `<!-- docs-test: skip: REASON -->`; "" when there is none) and the code.

Usage: tests/env/doc-blocks.py FILE.md..."""
import json
import re
import sys

MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")


def blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        fence = re.match(r"^(```+)(\S*)", lines[i])
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(2)
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence.group(1)):
            end += 1
        yield {"file": path, "line": start + 1, "lang": lang, "marker": marker.group(1) if marker else "",
               "code": "\n".join(lines[start + 1:end]) + "\n"}
        i = end + 1


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for path in sys.argv[1:]:
        for block in blocks(path):
            print(json.dumps(block))
    return 0


if __name__ == "__main__":
    sys.exit(main())
