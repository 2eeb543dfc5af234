#!/usr/bin/env python3
"""Compares a rendering of deploy/chart with the kustomize rendering it mirrors (deploy/install.yaml or
deploy/namespaced/install.yaml): the same objects with the same content, once Helm's own labels, the chart's
additions (the replicas' anti-affinity, the PodDisruptionBudget, the flags that spell out the binary's defaults)
and the controller's namespace object (Helm's --create-namespace makes it) are set aside.

Usage: chart-compare.py CHART_RENDERING KUSTOMIZE_RENDERING   (exit 0 when they agree, 1 with the differences)
"""
import json
import sys

import yaml

HELM_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart")
CHART_ONLY_KINDS = ("PodDisruptionBudget",)
# flags the chart always passes whose values are the binary's defaults (cmd/cmd_run.c)
CHART_ONLY_FLAGS = ("--metrics-auth=auto", "--index-image=")


def drop_helm_labels(obj):
    """Removes Helm's labels, the config checksum and the keep policy from every metadata and selector of obj,
    and folds the white space of CEL expressions."""
    if isinstance(obj, dict):
        for key in HELM_LABELS:
            obj.pop(key, None)
        obj.pop("multiarch.dev/config-checksum", None)
        obj.pop("helm.sh/resource-policy", None)
        if isinstance(obj.get("expression"), str):  # kustomize re-folds CEL with blank lines; CEL ignores them
            obj["expression"] = " ".join(obj["expression"].split())
        for value in obj.values():
            drop_helm_labels(value)
        for key in [k for k, v in obj.items() if k in ("labels", "annotations", "matchLabels") and v == {}]:
            del obj[key]
    elif isinstance(obj, list):
        for value in obj:
            drop_helm_labels(value)


def normalise(obj, from_chart):
    """The comparable form of one object."""
    drop_helm_labels(obj)
    if obj["kind"] == "ConfigMap" and "config.yaml" in obj.get("data", {}):
        obj["data"]["config.yaml"] = yaml.safe_load(obj["data"]["config.yaml"])
    if obj["kind"] in ("ClusterRole", "Role"):  # a grant is the set of its rules
        obj["rules"] = sorted(obj.get("rules", []), key=json.dumps)
    if obj["kind"] == "Deployment" and from_chart:
        pod = obj["spec"]["template"]["spec"]
        pod.pop("affinity", None)
        container = pod["containers"][0]
        container.pop("imagePullPolicy", None)
        container["args"] = [a for a in container["args"] if not a.startswith(CHART_ONLY_FLAGS)]
    return obj


def load(path, from_chart):
    """The objects of a rendering, by kind, namespace and name."""
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    objects = {}
    for doc in docs:
        if doc["kind"] in CHART_ONLY_KINDS or (doc["kind"] == "Namespace" and doc["metadata"]["name"] == "multiarch-system"):
            continue
        key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        objects[key] = normalise(doc, from_chart)
    return objects


def differences(chart, kustomize, path=""):
    """The paths at which two parsed objects differ, each with both values."""
    if isinstance(chart, dict) and isinstance(kustomize, dict):
        found = []
        for key in sorted(set(chart) | set(kustomize), key=str):
            found += differences(chart.get(key), kustomize.get(key), f"{path}.{key}")
        return found
    if isinstance(chart, list) and isinstance(kustomize, list) and len(chart) == len(kustomize):
        found = []
        for i, (a, b) in enumerate(zip(chart, kustomize)):
            found += differences(a, b, f"{path}[{i}]")
        return found
    return [] if chart == kustomize else [f"  {path or '.'}: chart {chart!r}, kustomize {kustomize!r}"]


def main():
    chart, kustomize = load(sys.argv[1], True), load(sys.argv[2], False)
    problems = []
    for key in sorted(set(chart) | set(kustomize)):
        if key not in chart:
            problems.append(f"only in {sys.argv[2]}: {key}")
        elif key not in kustomize:
            problems.append(f"only in {sys.argv[1]}: {key}")
        elif chart[key] != kustomize[key]:
            problems.append(f"differs: {key}")
            problems += differences(chart[key], kustomize[key])
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
