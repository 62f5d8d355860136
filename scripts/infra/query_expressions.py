"""Queries every PromQL expression of the alerts (without their threshold) and of the Grafana
dashboards against a Prometheus, and reports which return data.

Usage: query_expressions.py <prometheus url> <prometheus-rules.yaml> <dashboards dir>

An expression whose metrics only exist in a cluster (kube-state-metrics, cAdvisor, kubelet, the
ingress controller) is reported as SKIP; every other one must return at least one series.
Ends with `N passed, M failed, K skipped`.
"""
import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

CLUSTER_ONLY = {"kube_": "kube-state-metrics", "container_": "cAdvisor (kubelet)",
                "kubelet_": "kubelet", "traefik_": "Traefik"}
THRESHOLD = re.compile(r"\s*(>=|<=|>|<|==|!=)\s*[0-9.]+\s*$")


def expressions(rules_file, dashboards):
    for group in yaml.safe_load(Path(rules_file).read_text())["spec"]["groups"]:
        for rule in group["rules"]:
            yield f"alert {rule['alert']}", THRESHOLD.sub("", rule["expr"].strip())
    for f in sorted(Path(dashboards).glob("*.json")):
        for panel in json.loads(f.read_text())["panels"]:
            for t in panel.get("targets", []):
                yield f"dashboard {panel['title']}", t["expr"]


def query(url, expr):
    with urllib.request.urlopen(f"{url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=30) as r:
        body = json.load(r)
    if body["status"] != "success":
        raise RuntimeError(body)
    return body["data"]["result"]


def main():
    url, rules_file, dashboards = sys.argv[1:4]
    passed = failed = skipped = 0
    for name, expr in expressions(rules_file, dashboards):
        metrics = set(re.findall(r"\b([a-z_]+_[a-z_]+)(?=\s*[{\[)]|\s*$)", expr))
        cluster = sorted({source for m in metrics for prefix, source in CLUSTER_ONLY.items() if m.startswith(prefix)})
        result = query(url, expr)
        sample = f"{len(result)} series, e.g. {result[0]['metric']} = {result[0]['value'][1]}" if result else "no data"
        if result:
            passed += 1
            print(f"PASS  {name}: {sample}")
        elif cluster:
            skipped += 1
            print(f"SKIP  {name}: needs {', '.join(cluster)} (cluster only)")
        else:
            failed += 1
            print(f"FAIL  {name}: {sample}\n      {expr}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
