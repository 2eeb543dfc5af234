#!/usr/bin/python3
"""Reads the API server's audit log of one scale run and prints its figures as JSON.

Usage: bench/scale-audit.py AUDIT_LOG CONTROLLER IDLE_FROM IDLE_TO
  CONTROLLER  multiarch-controller or sample-controller (matched against the user agent)
  IDLE_FROM, IDLE_TO  RFC 3339 times bounding the window in which every object was done (writes there are counted)

Every write the audit policy records carries a microsecond timestamp, so "all done" is read here, from the first
object's create to the status write that finished the last one, not from the benchmark's polling list; children are matched to their parent by name
(multiarch-controller: NAME-gGEN-PLATFORM-aN pods, NAME-gGEN-index Job and its pods; sample-controller: the
Deployment named as its Foo).
"""
import collections
import datetime
import json
import re
import sys

BUILD_POD = re.compile(r"^(.+)-g\d+-linux-[a-z0-9-]+-a\d+$")
INDEX_JOB = re.compile(r"^(.+)-g\d+-index$")
INDEX_POD = re.compile(r"^(.+)-g\d+-index-[a-z0-9]{5}$")
WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def quantile(values, q):
    if not values:
        return None
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary_ms(values):
    return {"count": len(values), "p50_ms": round(quantile(values, 0.5) * 1000, 1) if values else None,
            "p99_ms": round(quantile(values, 0.99) * 1000, 1) if values else None,
            "max_ms": round(max(values) * 1000, 1) if values else None}


def writer_of(user, agent, controller):
    """Who made a write, in short: the benchmarked controller, a controller-manager loop, the scheduler, kwok."""
    if agent.startswith(controller):
        return controller
    if user.startswith("system:serviceaccount:kube-system:"):
        return user.rsplit(":", 1)[1]
    if agent.startswith("kube-controller-manager") and "/" in agent:
        return "controller-manager " + agent.rsplit("/", 1)[1]
    return user or "unknown"


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, controller = sys.argv[1], sys.argv[2]
    idle_from, idle_to = when(sys.argv[3]), when(sys.argv[4])
    parent_kind = "multiarchbuilds" if controller == "multiarch-controller" else "foos"

    parent_created = {}                  # name -> when the create answered
    children_created = collections.defaultdict(list)  # parent -> when each build pod (Deployment) create was received
    last_build_pod_done = {}             # parent -> last build pod status write by the node (kwok)
    job_created = {}                     # parent -> index Job create received
    index_pod_done = {}                  # parent -> index pod status write by the node
    status_writes = collections.defaultdict(list)  # parent -> status writes by the controller (received)
    writes = collections.Counter()
    cluster_writes = []                  # (received, writer) of every write by anyone
    idle_writes = 0
    first, last = None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if '"ResponseComplete"' not in line:
                continue
            ev = json.loads(line)
            verb = ev.get("verb")
            if verb not in WRITES:
                continue
            ref = ev.get("objectRef") or {}
            resource, sub, name = ref.get("resource"), ref.get("subresource", ""), ref.get("name", "")
            agent = ev.get("userAgent") or ""
            user = (ev.get("user") or {}).get("username", "")
            received, done = when(ev["requestReceivedTimestamp"]), when(ev["stageTimestamp"])
            ok = 200 <= (ev.get("responseStatus") or {}).get("code", 0) < 300
            by_controller = agent.startswith(controller)
            cluster_writes.append((received, writer_of(user, agent, controller)))
            if by_controller:
                writes["%s %s%s" % (verb, resource, "/" + sub if sub else "")] += 1
                if idle_from <= received <= idle_to:
                    idle_writes += 1
                first = received if first is None else min(first, received)
                last = received if last is None else max(last, received)
            if not ok:
                continue
            if resource == parent_kind and verb == "create" and not sub and not by_controller:
                parent_created[name] = done
            elif resource == parent_kind and sub == "status" and by_controller:
                status_writes[name].append(received)
            elif controller == "sample-controller" and resource == "deployments" and verb == "create" and by_controller:
                children_created[name].append(received)
            elif resource == "pods" and verb == "create" and by_controller and BUILD_POD.match(name):
                children_created[BUILD_POD.match(name).group(1)].append(received)
            elif resource == "jobs" and verb == "create" and by_controller and INDEX_JOB.match(name):
                job_created[INDEX_JOB.match(name).group(1)] = received
            elif resource == "pods" and sub == "status" and user == "kwok":
                m = BUILD_POD.match(name)
                if m:
                    last_build_pod_done[m.group(1)] = max(done, last_build_pod_done.get(m.group(1), 0))
                m = INDEX_POD.match(name)
                if m:
                    index_pod_done[m.group(1)] = done

    # every write of the cluster from the first object's create until all were done (the idle window excluded)
    start = min(parent_created.values()) if parent_created else 0
    by_writer = collections.Counter(w for t, w in cluster_writes if start <= t < idle_from)
    to_children = [max(children_created[p]) - t for p, t in parent_created.items() if children_created.get(p)]
    to_done = [max(status_writes[p]) - t for p, t in parent_created.items() if status_writes.get(p)]
    # when each object was done, from its status writes before the idle window: a Foo at its first (sample-controller
    # rewrites every status at each resync), a build at its last (the one that made it Ready; none follows at rest)
    pick = min if controller == "sample-controller" else max
    done_at = [pick(w) for w in ([t for t in status_writes.get(p, []) if t < idle_from] for p in parent_created) if w]
    result = {
        "objects": len(parent_created),
        "controller_writes": sum(writes.values()),
        "writes_per_object": round(sum(writes.values()) / max(1, len(parent_created)), 2),
        "writes_by_kind": dict(sorted(writes.items())),
        "idle_window_s": round(idle_to - idle_from, 1),
        "idle_writes": idle_writes,
        "create_to_children": summary_ms(to_children),
        "create_to_last_status_write": summary_ms(to_done),
        "controller_busy_s": round(last - first, 1) if first is not None else None,
        "done_objects": len(done_at),
        "all_done_s": round(max(done_at) - start, 1) if done_at else None,
        "cluster_writes_per_object": round(sum(by_writer.values()) / max(1, len(parent_created)), 2),
        "cluster_writes_by_writer": dict(by_writer.most_common()),
    }
    if controller == "multiarch-controller":
        jobs = max(1, len(job_created))
        result["job_controller_writes_per_job"] = round(
            sum(n for w, n in by_writer.items() if "job-controller" in w) / jobs, 2)
        result["last_platform_to_index_job"] = summary_ms(
            [job_created[p] - t for p, t in last_build_pod_done.items() if p in job_created and job_created[p] >= t])
        result["index_pod_to_ready_write"] = summary_ms(
            [max(status_writes[p]) - t for p, t in index_pod_done.items() if status_writes.get(p) and max(status_writes[p]) >= t])
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
