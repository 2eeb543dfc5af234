#!/usr/bin/env python3
"""The kubelet's part for the controller's pods on the fake (kwok) nodes, and nothing else.

For every pod labelled multiarch.dev/build that the real scheduler bound to a node, it does what that
pod's container would have done on a real node, then writes the pod status as a kubelet would
(Running, then Succeeded with the digest as the termination message, or Failed):

  build pods  (never of an architecture a real node serves: those fail at once, saying so)
              push a real single-architecture image of the node's architecture to the pod's
              repository (annotation multiarch.dev/repository), made with tests/env/make-image.sh
              (umoci) and pushed with skopeo; or, with --buildah, build the build's ConfigMap source
              with `buildah build --platform` on this host and push that.
  index pods  run the pod's own `multiarch-controller index ...` arguments with bin/multiarch-controller
              on this host (the push secret and CA bundles, when mounted, are fetched and given as files).

A plan file (--plan, JSON, re-read on every pass) makes attempts fail or hang, by
"NAMESPACE/BUILD/PLATFORM/ATTEMPT" keys (ATTEMPT may be "*"): "fail", "hang", "bad-digest"
or "succeed" (the default). It logs one line per pod it finishes to --log.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Api:
    """A small client for the test cluster's API server, authenticated with the admin client certificate."""

    def __init__(self, cluster_dir, server):
        pki = os.path.join(cluster_dir, "pki")
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        url = urllib.parse.urlparse(server)
        self.host, self.port = url.hostname, url.port
        self.local = threading.local()

    def request(self, method, path, body=None, content_type="application/json"):
        # patient enough to outlast an API server restart (the chaos test restarts it under running pods)
        for attempt in range(20):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
                self.local.conn = conn
            try:
                headers = {"Content-Type": content_type} if body is not None else {}
                conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                self.local.conn = None
                time.sleep(min(0.5 * (attempt + 1), 5))
        return 0, None


def log(out, text):
    out.write("%s %s\n" % (time.strftime("%H:%M:%S"), text))
    out.flush()


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Kubelet:
    def __init__(self, args):
        self.args = args
        self.api = Api(args.cluster_dir, args.server)
        self.out = open(args.log, "a", encoding="utf-8") if args.log else sys.stdout
        self.started = set()   # pod uids taken on
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=args.parallel)
        self.node_arch = {}
        self.work = tempfile.mkdtemp(prefix="fake-kubelet-")

    def plan(self, pod):
        if not self.args.plan or not os.path.exists(self.args.plan):
            return "succeed"
        try:
            with open(self.args.plan, encoding="utf-8") as f:
                plan = json.load(f)
        except (OSError, ValueError):
            return "succeed"
        meta = pod["metadata"]
        labels = meta.get("labels", {})
        base = "%s/%s/%s/" % (meta["namespace"], labels.get("multiarch.dev/build"), labels.get("multiarch.dev/platform"))
        return plan.get(base + labels.get("multiarch.dev/attempt", "1"), plan.get(base + "*", "succeed"))

    def patch_status(self, pod, status):
        meta = pod["metadata"]
        path = "/api/v1/namespaces/%s/pods/%s/status" % (meta["namespace"], meta["name"])
        code, _ = self.api.request("PATCH", path, {"status": status}, "application/merge-patch+json")
        return code == 200

    def container_status(self, pod, state):
        c = pod["spec"]["containers"][0]
        return [{"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0, "started": "running" in state,
                 "state": state}]

    def run_pod(self, pod):
        meta = pod["metadata"]
        role = meta.get("labels", {}).get("multiarch.dev/role")
        started = now()
        self.patch_status(pod, {"phase": "Running", "startTime": started, "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
                                "containerStatuses": self.container_status(pod, {"running": {"startedAt": started}})})
        try:
            if role == "index":
                ok, message = self.run_index(pod)
            else:
                ok, message = self.run_build(pod)
        except Exception as e:  # a helper bug must show as a failed pod, not a silent hang
            ok, message = False, "fake-kubelet: %s" % e
        if ok is None:
            log(self.out, "hang %s/%s" % (meta["namespace"], meta["name"]))
            return
        term = {"exitCode": 0 if ok else 1, "reason": "Completed" if ok else "Error", "message": message, "startedAt": started,
                "finishedAt": now()}
        self.patch_status(pod, {"phase": "Succeeded" if ok else "Failed",
                                "containerStatuses": self.container_status(pod, {"terminated": term})})
        log(self.out, "%s %s/%s node=%s %s" % ("succeeded" if ok else "failed", meta["namespace"], meta["name"],
                                               pod["spec"].get("nodeName"), message.strip()[:200]))

    def arch_of(self, node):
        """The architecture of a fake (kwok) node; "" for a real node, whose kubelet runs its pods itself."""
        if node not in self.node_arch:
            code, obj = self.api.request("GET", "/api/v1/nodes/" + urllib.parse.quote(node))
            if code == 200:
                meta = obj["metadata"]
                fake = meta.get("annotations", {}).get("kwok.x-k8s.io/node") == "fake"
                self.node_arch[node] = meta.get("labels", {}).get("kubernetes.io/arch", "") if fake else ""
        return self.node_arch.get(node, "")

    def real_arches(self):
        """The architectures the cluster's real nodes serve (read on every call: nodes come and go)."""
        code, obj = self.api.request("GET", "/api/v1/nodes?labelSelector=multiarch.dev%2Fnode%3Dreal")
        if code != 200:
            return set()
        return {n["metadata"].get("labels", {}).get("kubernetes.io/arch", "") for n in obj.get("items", [])}

    def run_build(self, pod):
        plan = self.plan(pod)
        if plan == "hang":
            return None, ""
        if plan == "fail":
            return False, "simulated build failure"
        meta = pod["metadata"]
        arch = self.arch_of(pod["spec"]["nodeName"])
        repo = meta.get("annotations", {}).get("multiarch.dev/repository")
        if not repo or not arch:
            return False, "no repository annotation or node architecture"
        if arch in self.real_arches():
            return False, "fake-kubelet: a real node serves %s: its builds run for real, never here" % arch
        layout = tempfile.mkdtemp(dir=self.work)
        try:
            if self.args.buildah:
                digest = self.buildah_build(pod, arch, repo, layout)
            else:
                subprocess.run([os.path.join(ROOT, "tests/env/make-image.sh"), layout + "/oci", "img", arch], check=True,
                               capture_output=True, text=True)
                digestfile = os.path.join(layout, "digest")
                subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--digestfile", digestfile, "oci:%s/oci:img" % layout,
                                "docker://%s:build-%s" % (repo, meta["name"])], check=True, capture_output=True, text=True)
                with open(digestfile, encoding="utf-8") as f:
                    digest = f.read().strip()
        except subprocess.CalledProcessError as e:
            return False, (e.stderr or str(e))[-500:]
        finally:
            shutil.rmtree(layout, ignore_errors=True)
        if plan == "bad-digest":
            return True, "pushed, but this is not a digest\n"
        return True, digest + "\n"

    def buildah_build(self, pod, arch, repo, work):
        """Builds the build's ConfigMap source for the node's architecture with buildah on this host."""
        meta = pod["metadata"]
        vols = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        cm = vols.get("workspace", {}).get("configMap", {}).get("name")
        if not cm:
            raise RuntimeError("--buildah needs a configMap source")
        code, obj = self.api.request("GET", "/api/v1/namespaces/%s/configmaps/%s" % (meta["namespace"], cm))
        if code != 200:
            raise RuntimeError("configmap %s: HTTP %d" % (cm, code))
        ctx = os.path.join(work, "context")
        os.makedirs(ctx)
        for name, text in obj.get("data", {}).items():
            with open(os.path.join(ctx, name), "w", encoding="utf-8") as f:
                f.write(text)
        args = pod["spec"]["containers"][0].get("args", [])
        platform = next((a.split("=", 1)[1] for a in args if a.startswith("--platform=")), "linux/" + arch)
        build_args = [a for a in args if a.startswith("--build-arg=") or a.startswith("--target=")]
        build_args += ["--file=" + os.path.join(ctx, a.split("=", 1)[1]) for a in args if a.startswith("--file=")]
        iid = os.path.join(work, "iid")
        digestfile = os.path.join(work, "digest")
        subprocess.run(["buildah", "--storage-driver=vfs", "build", "-q", "--platform=" + platform, "--iidfile", iid] + build_args + [ctx],
                       check=True, capture_output=True, text=True)
        with open(iid, encoding="utf-8") as f:
            image = f.read().strip()
        subprocess.run(["buildah", "--storage-driver=vfs", "push", "-q", "--tls-verify=false", "--digestfile", digestfile, image,
                        "docker://%s:build-%s" % (repo, meta["name"])], check=True, capture_output=True, text=True)
        subprocess.run(["buildah", "--storage-driver=vfs", "rmi", image], capture_output=True, text=True)
        with open(digestfile, encoding="utf-8") as f:
            return f.read().strip()

    def projected_file(self, pod, volume, path, work):
        """Writes the file a projected ConfigMap volume would show at path, as the kubelet would, and returns where."""
        meta = pod["metadata"]
        vol = next(v for v in pod["spec"]["volumes"] if v["name"] == volume)
        for source in vol["projected"]["sources"]:
            cm = source.get("configMap")
            item = next((i for i in (cm or {}).get("items", []) if i["path"] == path), None)
            if not item:
                continue
            code, obj = self.api.request("GET", "/api/v1/namespaces/%s/configmaps/%s" % (meta["namespace"], cm["name"]))
            if code != 200:
                raise RuntimeError("configmap %s: HTTP %d" % (cm["name"], code))
            out = os.path.join(work, path)
            with open(out, "w", encoding="utf-8") as f:
                f.write(obj["data"][item["key"]])
            return out
        raise RuntimeError("no %s in volume %s" % (path, volume))

    def run_index(self, pod):
        meta = pod["metadata"]
        container = pod["spec"]["containers"][0]
        args = list(container.get("command", [])[1:]) + list(container.get("args", []))
        if not args or args[0] != "index":
            return False, "the index pod does not run `multiarch-controller index`"
        work = tempfile.mkdtemp(dir=self.work)
        try:
            term = os.path.join(work, "termination-log")
            out = []
            for a in args:
                if a == "--digest-file=/dev/termination-log":
                    a = "--digest-file=" + term
                elif a.startswith("--ca-file="):
                    a = "--ca-file=" + self.projected_file(pod, "trust", os.path.basename(a.split("=", 1)[1]), work)
                elif a.startswith("--docker-config="):
                    secret = next(v["secret"]["secretName"] for v in pod["spec"]["volumes"] if v["name"] == "docker-config")
                    code, obj = self.api.request("GET", "/api/v1/namespaces/%s/secrets/%s" % (meta["namespace"], secret))
                    if code != 200:
                        return False, "secret %s: HTTP %d" % (secret, code)
                    with open(os.path.join(work, "config.json"), "wb") as f:
                        f.write(base64.b64decode(obj["data"][".dockerconfigjson"]))
                    a = "--docker-config=" + work
                out.append(a)
            proc = subprocess.run([self.args.binary] + out, capture_output=True, text=True, timeout=300)
            if proc.returncode == 0 and os.path.exists(term):
                with open(term, encoding="utf-8") as f:
                    return True, f.read()
            # FallbackToLogsOnError: the end of the log becomes the message
            return False, (proc.stderr + proc.stdout)[-1024:]
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def pass_once(self):
        code, obj = self.api.request("GET", "/api/v1/pods?labelSelector=multiarch.dev%2Fbuild")
        if code != 200:
            return
        for pod in obj.get("items", []):
            meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
            if not spec.get("nodeName") or meta.get("deletionTimestamp") or status.get("phase") not in (None, "Pending"):
                continue
            if not self.arch_of(spec["nodeName"]):
                continue  # a real node's pod
            with self.lock:
                if meta["uid"] in self.started:
                    continue
                self.started.add(meta["uid"])
            self.pool.submit(self.run_pod, pod)

    def run(self, stop_file):
        deadline = time.time() + self.args.max_seconds
        while time.time() < deadline and not (stop_file and os.path.exists(stop_file)):
            self.pass_once()
            time.sleep(self.args.interval)
        self.pool.shutdown(wait=True)
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cluster-dir", default=os.environ.get("MAC_CLUSTER_DIR"))
    p.add_argument("--server", default=os.environ.get("MAC_APISERVER"))
    p.add_argument("--binary", default=os.path.join(ROOT, "bin/multiarch-controller"))
    p.add_argument("--plan")
    p.add_argument("--log")
    p.add_argument("--buildah", action="store_true")
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--interval", type=float, default=0.3)
    p.add_argument("--max-seconds", type=float, default=3600, help="stops by itself after this long")
    p.add_argument("--stop-file", help="stops when this file exists")
    args = p.parse_args()
    if not args.cluster_dir or not args.server:
        sys.exit("fake-kubelet: set --cluster-dir and --server (or source the cluster env file)")
    Kubelet(args).run(args.stop_file)


if __name__ == "__main__":
    main()
