#!/usr/bin/python3
"""Where the machine's CPU goes during a benchmark: which component used how many core-seconds between two snapshots.

Usage: bench/cpu-shares.py snapshot PID          prints a JSON snapshot (PID: the benchmark's shell, whose waited-for
                                                  children, the kubectl creates, are counted as "kubectl")
       bench/cpu-shares.py diff BEFORE AFTER      prints the core-seconds per component between two snapshot files,
                                                  the machine's busy and idle core-seconds, and the wall time
Components are told by their command name (etcd, kube-apiserver, ...); what no named process used is "other".
"""
import json
import os
import sys
import time

COMPONENTS = {
    "etcd": "etcd", "kube-apiserver": "kube-apiserver", "kube-controller": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler", "kwok": "kwok", "multiarch-contr": "multiarch-controller",
    "sample-controll": "sample-controller", "kubectl": "kubectl",
}


def ticks_of(pid):
    """(comm, own ticks, waited-for children's ticks) of a process, or None when it is gone."""
    try:
        with open("/proc/%s/stat" % pid, encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return comm, int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def snapshot(shell_pid):
    per = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        got = ticks_of(pid)
        if got and got[0] in COMPONENTS:
            per[COMPONENTS[got[0]]] = per.get(COMPONENTS[got[0]], 0) + got[1]
    shell = ticks_of(shell_pid)
    per["kubectl"] = per.get("kubectl", 0) + (shell[2] if shell else 0)
    with open("/proc/stat", encoding="ascii") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    busy = sum(cpu[:3]) + sum(cpu[5:8])  # user nice system irq softirq steal
    return {"at": time.time(), "hz": os.sysconf("SC_CLK_TCK"), "busy": busy, "idle": cpu[3] + cpu[4], "per": per}


def diff(before, after):
    hz = after["hz"]
    per = {k: round((v - before["per"].get(k, 0)) / hz, 1) for k, v in after["per"].items()}
    busy = round((after["busy"] - before["busy"]) / hz, 1)
    per["other"] = round(max(0.0, busy - sum(per.values())), 1)
    return {"wall_s": round(after["at"] - before["at"], 1), "busy_core_s": busy,
            "idle_core_s": round((after["idle"] - before["idle"]) / hz, 1),
            "by_component_core_s": dict(sorted(per.items(), key=lambda kv: -kv[1]))}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "snapshot":
        json.dump(snapshot(sys.argv[2]), sys.stdout)
    elif len(sys.argv) == 4 and sys.argv[1] == "diff":
        with open(sys.argv[2], encoding="utf-8") as a, open(sys.argv[3], encoding="utf-8") as b:
            json.dump(diff(json.load(a), json.load(b)), sys.stdout)
    else:
        sys.exit(__doc__)
    print()


if __name__ == "__main__":
    main()
