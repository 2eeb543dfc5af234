#!/usr/bin/python3
"""Turns the benchmark CSV files into markdown tables and gnuplot data.

Usage: bench/summarize.py index TIMES_CSV REQUESTS_CSV   prints markdown; writes TIMES_CSV's folder/index-PLATFORMS.dat
"""
import collections
import csv
import os
import statistics
import sys


def quantile(values, q):
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def index(times_csv, requests_csv):
    times = collections.defaultdict(list)
    order = []
    with open(times_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["registry"], int(row["platforms"]), row["tool"])
            if row["tool"] not in order:
                order.append(row["tool"])
            times[key].append(float(row["seconds"]) * 1000)
    requests = {}
    with open(requests_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            requests[(row["tool"], int(row["platforms"]))] = row
    folder = os.path.dirname(times_csv)
    sizes = sorted({k[1] for k in times})
    print("### HTTP requests per merge\n")
    print("Counted at a logging proxy on loopback in front of the plain-HTTP registry (so no authentication round trips).\n")
    print("| platforms | tool | requests | GET | HEAD | PUT | POST | PATCH |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for t in order:
            r = requests.get((t, n))
            if r:
                print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (n, t, r["requests"], r["get"], r["head"], r["put"], r["post"], r["patch"]))
    print()
    for registry in ("plain", "tls"):
        title = "plain HTTP" if registry == "plain" else "TLS + basic auth"
        print("### %s registry: wall time per merge\n" % title)
        print("| platforms | tool | median ms | p10 to p90 ms | min ms | runs | vs fastest peer |")
        print("|---|---|---|---|---|---|---|")
        for n in sizes:
            medians = {t: statistics.median(times[(registry, n, t)]) for t in order if times.get((registry, n, t))}
            peers = [m for t, m in medians.items() if t != "multiarch-controller"]
            fastest_peer = min(peers) if peers else None
            for t in order:
                v = times.get((registry, n, t))
                if not v:
                    print("| %d | %s | cannot | | | | |" % (n, t))
                    continue
                ratio = ""
                if t == "multiarch-controller" and fastest_peer:
                    ratio = "%.1fx faster" % (fastest_peer / medians[t])
                elif fastest_peer and medians[t] == fastest_peer:
                    ratio = "fastest peer"
                print("| %d | %s | %.1f | %.1f to %.1f | %.1f | %d | %s |" % (
                    n, t, medians[t], quantile(v, 0.1), quantile(v, 0.9), min(v), len(v), ratio))
            with open(os.path.join(folder, "index-%s-%d.dat" % (registry, n)), "w", encoding="utf-8") as dat:
                for i, t in enumerate(order):
                    v = times.get((registry, n, t))
                    if v:
                        dat.write("%d %s %.2f %.2f %.2f\n" % (i, t, medians[t], quantile(v, 0.1), quantile(v, 0.9)))
        print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
