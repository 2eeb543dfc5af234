#!/usr/bin/env python3
"""Prints every key that appears twice in one JSON object of the given files (the golden comparison's guard: most
JSON readers keep the last of two keys silently). Exits 1 when there is one."""
import json
import sys


def main():
    found = []
    for path in sys.argv[1:]:
        def refuse(pairs, path=path):
            seen = set()
            for key, _ in pairs:
                if key in seen:
                    found.append(f"{path}: key {key!r} twice in one object")
                seen.add(key)
            return dict(pairs)
        with open(path, encoding="utf-8") as f:
            json.load(f, object_pairs_hook=refuse)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
