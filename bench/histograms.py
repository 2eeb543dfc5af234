#!/usr/bin/python3
"""The quantiles of the controller's own histograms, read from a /metrics page: what its part of a latency is.

Usage: bench/histograms.py METRICS_TEXT NAME...   prints JSON: for each histogram NAME (its series summed over
                                                  labels), the count and the upper bounds of the buckets that hold
                                                  the median and the 99th percentile (seconds; null past the last)
"""
import json
import re
import sys

BUCKET = re.compile(r'^([a-z_]+)_bucket\{(?:.*,)?le="([^"]+)"\} ([0-9.e+]+)$')


def quantile_bounds(text, name):
    cumulative = {}
    for line in text.splitlines():
        m = BUCKET.match(line)
        if m and m.group(1) == name:
            le = float("inf") if m.group(2) == "+Inf" else float(m.group(2))
            cumulative[le] = cumulative.get(le, 0) + float(m.group(3))
    bounds = sorted(cumulative)
    count = cumulative.get(float("inf"), 0)

    def bound(q):
        for le in bounds:
            if count and cumulative[le] >= q * count:
                return None if le == float("inf") else le
        return None
    return {"count": int(count), "p50_le_s": bound(0.5), "p99_le_s": bound(0.99)}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    json.dump({name: quantile_bounds(text, name) for name in sys.argv[2:]}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
