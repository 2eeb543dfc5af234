#!/usr/bin/python3
"""Turns the benchmark CSV files into markdown tables and gnuplot data.

Usage: bench/summarize.py index TIMES_CSV REQUESTS_CSV   prints markdown; writes TIMES_CSV's folder/index-PLATFORMS.dat
       bench/summarize.py scale REPORT_JSON...             prints markdown for the scale runs
       bench/summarize.py capacity CAPACITY_JSONL          prints markdown for the write capacity runs
"""
import collections
import csv
import json
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
    titles = {"plain": "plain HTTP", "tls": "TLS + basic auth",
              "remote": "plain HTTP, %s ms away" % os.environ.get("BENCH_RTT_MS", "20")}
    for registry in ("plain", "tls", "remote"):
        title = titles[registry]
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


def all_done_s(run):
    """All done, from the audit log when it says (the status write that finished the last object), else from the
    benchmark's polling list."""
    audited = run["audit"].get("all_done_s")
    return audited if audited is not None and run["audit"].get("done_objects") == run["objects"] else run["all_done_s"]


def ms(d, key):
    v = (d or {}).get(key)
    return "-" if v is None else "%.0f" % v


def bucket_bounds(h):
    """A histogram's median and p99 as the bounds of the buckets holding them (bench/histograms.py)."""
    if not h or not h.get("count"):
        return "not measured"
    def le(v):
        return "> last bucket" if v is None else "<= %g ms" % (v * 1000)
    return "%s / %s" % (le(h["p50_le_s"]), le(h["p99_le_s"]))


def created(run):
    rate = run.get("create_rate", 0)
    return "%d a second" % rate if rate else "at once"


def label(run):
    """The controller, its workers and the run's label."""
    text = "%s, %d workers" % (run["controller"], run.get("workers", 2))
    return text + (" (run %s)" % run["run"] if run.get("run") else "")


def scale(paths):
    runs = sorted((json.load(open(p, encoding="utf-8")) for p in paths),
                  key=lambda r: (r["objects"], r.get("create_rate", 0), r["controller"], r.get("workers", 2), r.get("run", "")))
    print("| objects | created | controller | done | creates took s | all done s (audit log) | RSS synced, empty MiB "
          "| RSS at rest MiB | RSS peak MiB | KiB per cached object | CPU s | writes per object | writes while idle "
          "| create to children p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        a = r["audit"]
        c = a["create_to_children"]
        idle = "%d in %.0f s" % (a["idle_writes"], a["idle_window_s"]) if r.get("idle_s", 1) > 0 else "not measured"
        print("| %d | %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %.2f | %s | %s / %s |" % (
            r["objects"], created(r), label(r), r["done"], r.get("created_s", 0), all_done_s(r), r["rss_synced_empty_kib"] / 1024,
            r["rss_at_rest_kib"] / 1024, r["rss_peak_kib"] / 1024, r["kib_per_cached_object"], r["cpu_s"],
            a["writes_per_object"], idle, ms(c, "p50_ms"), ms(c, "p99_ms")))
    print()
    sweep(runs)
    print("| objects | created | controller | writes by kind |")
    print("|---|---|---|---|")
    for r in runs:
        kinds = ", ".join("%s %d" % kv for kv in r["audit"]["writes_by_kind"].items())
        if r.get("events_dropped") is not None:
            kinds += "; Events dropped (queue full) %d" % r["events_dropped"]
        if r.get("events_written_s") is not None:
            kinds += "; the last Event written at %.0f s" % r["events_written_s"]
        if r["audit"].get("cluster_writes_per_object") is not None:
            kinds += "; all the cluster's writes: %.2f per object (%s)" % (r["audit"]["cluster_writes_per_object"], ", ".join(
                "%s %d" % kv for kv in list(r["audit"]["cluster_writes_by_writer"].items())[:6]))
        if r["audit"].get("job_controller_writes_per_job") is not None:
            kinds += "; the Job controller's writes per index Job: %.2f" % r["audit"]["job_controller_writes_per_job"]
        print("| %d | %s | %s | %s |" % (r["objects"], created(r), label(r), kinds))
    print()
    ours = [r for r in runs if r["controller"] == "multiarch-controller"]
    if ours:
        print("| builds | created | controller | last platform done to index Job created p50 / p99 / max ms "
              "| index pod done to Ready written p50 / p99 / max ms | the controller's part: queue wait p50 / p99 "
              "| reconcile p50 / p99 |")
        print("|---|---|---|---|---|---|---|")
        for r in ours:
            j, d = r["audit"].get("last_platform_to_index_job"), r["audit"].get("index_pod_to_ready_write")
            h = r.get("controller_histograms") or {}
            print("| %d | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s |" % (
                r["objects"], created(r), label(r), ms(j, "p50_ms"), ms(j, "p99_ms"), ms(j, "max_ms"),
                ms(d, "p50_ms"), ms(d, "p99_ms"), ms(d, "max_ms"), bucket_bounds(h.get("multiarch_workqueue_wait_seconds")),
                bucket_bounds(h.get("multiarch_reconcile_duration_seconds"))))
        print()
    cpu_table(runs)


CPU_COLUMNS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "multiarch-controller",
               "sample-controller", "kubectl", "other"]


def cpu_table(runs):
    """Where the machine's two cores went from the first create until all were done (bench/cpu-shares.py)."""
    runs = [r for r in runs if r.get("cpu_until_done")]
    if not runs:
        return
    print("| objects | created | controller | wall s | cores busy | %s |" % " | ".join(CPU_COLUMNS))
    print("|---|---|---|---|---|" + "---|" * len(CPU_COLUMNS))
    for r in runs:
        c = r["cpu_until_done"]
        by = c["by_component_core_s"]
        cores = c["busy_core_s"] / c["wall_s"] if c["wall_s"] else 0
        print("| %d | %s | %s | %.1f | %.2f of %.0f | %s |" % (
            r["objects"], created(r), label(r), c["wall_s"], cores, (c["busy_core_s"] + c["idle_core_s"]) / max(c["wall_s"], 1),
            " | ".join("%.1f" % by.get(k, 0) for k in CPU_COLUMNS)))
    print()


def sweep(runs):
    """All done, by size, controller and workers: the median of the runs and their spread, each controller at equal
    workers beside the other, as a ratio, and each at its best."""
    groups = {}
    for r in runs:
        if not r.get("create_rate") and r["done"] == r["objects"]:
            groups.setdefault((r["objects"], r["controller"], r.get("workers", 2)), []).append(all_done_s(r))
    sizes = sorted({k[0] for k in groups})
    if not sizes:
        return

    def cell(key):
        v = sorted(groups.get(key, []))
        return "-" if not v else "%.0f (%.0f to %.0f, %d runs)" % (quantile(v, 0.5), v[0], v[-1], len(v))

    print("| objects | workers | multiarch-controller all done s: median (min to max) | sample-controller | ours / sample |")
    print("|---|---|---|---|---|")
    for n in sizes:
        for w in sorted({k[2] for k in groups if k[0] == n}):
            ours, sample = groups.get((n, "multiarch-controller", w)), groups.get((n, "sample-controller", w))
            ratio = "%.2f" % (quantile(sorted(ours), 0.5) / quantile(sorted(sample), 0.5)) if ours and sample else "-"
            print("| %d | %d | %s | %s | %s |" % (n, w, cell((n, "multiarch-controller", w)), cell((n, "sample-controller", w)), ratio))
        best = {}
        for c in ("multiarch-controller", "sample-controller"):
            found = [(quantile(sorted(v), 0.5), k[2]) for k, v in groups.items() if k[0] == n and k[1] == c]
            if found:
                best[c] = min(found)
        if len(best) == 2:
            (o, ow), (sm, sw) = best["multiarch-controller"], best["sample-controller"]
            print("| %d | best | %.0f s at %d workers | %.0f s at %d workers | %.2f |" % (n, o, ow, sm, sw, o / sm))
    print()


def capacity(path):
    """Median and spread of the write rate per kind and concurrency, from capacity.sh's lines."""
    runs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    groups = {}
    for r in runs:
        groups.setdefault((r["kind"], r["threads"]), []).append(r)
    print("| writes | concurrent writers | runs | writes a second: median (min to max) | errors | connections |")
    print("|---|---|---|---|---|---|")
    for (kind, threads), rs in sorted(groups.items()):
        rates = sorted(r["rate"] for r in rs)
        print("| %s | %d | %d | %.0f (%.0f to %.0f) | %d | %d |" % (
            kind, threads, len(rs), quantile(rates, 0.5), rates[0], rates[-1], sum(r["errors"] for r in rs),
            max(r["connections"] for r in rs)))
    print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "scale":
        scale(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "capacity":
        capacity(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
