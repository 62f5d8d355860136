"""Checks that every request Kubernetes and Dapr send to a SpinApp reaches its component.

Usage: check_spin_routes.py <repo root> <rendered-<env>.yaml> [...]

For each SpinApp of each rendered chart it keeps the triggers of the selected components of the
root spin.toml (as SpinKube's selective deployment does), routes each path the way Spin's HTTP
router does (duplicate routes: the last declaration wins; an exact route beats a wildcard; the
longest wildcard base wins), strips the component's ROUTE_PREFIX (component-kit `mount`) and
finds the path among the routes the component's Router registers in its source. The paths:

- liveness and readiness probes and Dapr's app health check path (GET);
- every Subscription route scoped to the app id (POST);
- Dapr's fixed Jobs API trigger `POST /job/{name}` for a component that schedules jobs, and
  `GET /dapr/subscribe` for a component that answers it;
- each exact path the Dapr Configuration's accessControl lets a caller invoke under the app's
  route base (task-api → `/notification/internal/reminder-jobs`);
- the ingress paths of the app (GET of an Exact path; a Prefix path must cover a route), none of
  which may expose a route only the sidecar calls (`/job/...`, `/events/...`, `/dapr/...`,
  `/internal/...`).

A path Spin routes elsewhere (or nowhere) gets a 404, which Dapr counts as a delivered job or a
dropped event: that is the defect this check exists for.
"""
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROUTE_CALL = re.compile(r'\.(get|post|put|patch|delete|any)(?:_async)?\(\s*"([^"]+)"')
# A `route_table!` entry: `"POST" "/api/tasks" => create;`.
ROUTE_TABLE_ENTRY = re.compile(r'^\s*"(GET|POST|PUT|PATCH|DELETE)"\s+"([^"]+)"\s*=>', re.MULTILINE)
# The problem+json fallback matches everything; it is not a route of its own.
FALLBACK = "/*"


def spin_routes(root):
    """(triggers [(route, component)], {component: environment})."""
    spin = tomllib.loads((root / "spin.toml").read_text())
    triggers = [(t["route"], t["component"]) for t in spin["trigger"]["http"]]
    env = {name: c.get("environment", {}) for name, c in spin["component"].items()}
    return triggers, env


def spin_route(triggers, path):
    """The component Spin's router picks for `path`, or None."""
    table = {}
    for route, component in triggers:
        table.pop(route, None)
        table[route] = component  # duplicates: the last declaration wins
    exact = [c for r, c in table.items() if not r.endswith("/...") and r.rstrip("/") == path.rstrip("/")]
    if exact:
        return exact[-1]
    best, best_len = None, -1
    for route, component in table.items():
        if not route.endswith("/..."):
            continue
        base = route[: -len("/...")]
        if (path == base or path.startswith(base + "/") or base == "") and len(base) > best_len:
            best, best_len = component, len(base)
    return best


def unmount(path, prefix):
    """The path the component routes on after removing its ROUTE_PREFIX (component-kit mount)."""
    prefix = (prefix or "").rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        return path[len(prefix):]
    return path


def source_routes(root, component):
    """(method, pattern) of every route the component's Router registers."""
    sources = list((root / "components" / component / "src").rglob("*.rs"))
    sources.append(root / "components" / "component-kit" / "src" / "health.rs")
    routes = set()
    for src in sources:
        text = src.read_text()
        for method, pattern in ROUTE_CALL.findall(text):
            if pattern != FALLBACK:
                routes.add((method, pattern))
        for method, pattern in ROUTE_TABLE_ENTRY.findall(text):
            routes.add((method.lower(), pattern))
    return routes


def schedules_jobs(root, component):
    return any("schedule_job(" in p.read_text() for p in (root / "components" / component / "src").rglob("*.rs"))


def pattern_matches(pattern, path):
    """spin-sdk Router patterns: literal segments, `:name` segments, a trailing `*`."""
    pat = [s for s in pattern.split("/") if s]
    seg = [s for s in path.split("?")[0].split("/") if s]
    if pat and pat[-1] == "*":
        return len(seg) >= len(pat) and all(p.startswith(":") or p == s for p, s in zip(pat[:-1], seg))
    return len(pat) == len(seg) and all(p.startswith(":") or p == s for p, s in zip(pat, seg))


# Paths only the Dapr sidecar calls (component-kit app_token): never behind an ingress path.
SIDECAR_PATHS = ("/job/example-job", "/events/task-operations", "/dapr/subscribe", "/dapr/config",
                 "/internal/reminder-jobs")


def ingress_matches(ingress_path, path):
    """Whether an Ingress path (Exact or Prefix, element-wise as Kubernetes defines) takes `path`."""
    want = ingress_path["path"]
    if ingress_path["pathType"] == "Exact":
        return path == want
    base = want.rstrip("/")
    return base == "" or path == base or path.startswith(base + "/")


def pattern_under(pattern, base):
    """Whether a Router pattern lies under the path prefix `base`."""
    base = base.rstrip("/")
    return pattern == base or pattern.startswith(base + "/")


def component_handles(routes, method, path):
    method = method.lower()
    return any(m in (method, "any") and pattern_matches(p, path) for m, p in routes)


def check_manifest(root, path, triggers, env, errors):
    rendered = [d for d in yaml.safe_load_all(path.read_text()) if d]
    apps = [d for d in rendered if d["kind"] == "SpinApp"]
    subs = [d for d in rendered if d["kind"] == "Subscription"]
    ingresses = [d for d in rendered if d["kind"] == "Ingress"]
    # Dapr service invocation of an exact path the Configuration's accessControl allows.
    invoked = [(verb, op["name"], p["appId"]) for d in rendered if d["kind"] == "Configuration"
               for p in (d["spec"].get("accessControl") or {}).get("policies", [])
               for op in p.get("operations", []) if op.get("action") == "allow" and "*" not in op["name"]
               for verb in op.get("httpVerb") or ["GET"]]
    checked = 0
    for app in apps:
        spec = app["spec"]
        app_id = spec["podAnnotations"]["dapr.io/app-id"]
        selected = spec["components"]
        retained = [(r, c) for r, c in triggers if c in selected]
        component = selected[0]
        routes = source_routes(root, component)
        prefix = env.get(component, {}).get("ROUTE_PREFIX", "")
        calls = [("GET", spec["checks"][p]["httpGet"]["path"], f"{p} probe") for p in ("liveness", "readiness")]
        calls.append(("GET", spec["podAnnotations"]["dapr.io/app-health-check-path"], "Dapr app health check"))
        for sub in subs:
            if app_id in sub.get("scopes", []):
                calls.append(("POST", sub["spec"]["routes"]["default"], f"subscription {sub['metadata']['name']}"))
                for rule in sub["spec"]["routes"].get("rules", []):
                    calls.append(("POST", rule["path"], f"subscription {sub['metadata']['name']} rule"))
        if schedules_jobs(root, component):
            calls.append(("POST", "/job/example-job", "Dapr Jobs API trigger"))
        for verb, op_path, caller in invoked:
            if prefix and (op_path == prefix or op_path.startswith(prefix.rstrip("/") + "/")):
                calls.append((verb, op_path, f"Dapr invocation from {caller}"))
        if component_handles(routes, "GET", "/dapr/subscribe"):
            calls.append(("GET", "/dapr/subscribe", "Dapr start-up subscribe call"))
        for ing in ingresses:
            for rule in ing["spec"].get("rules", []):
                for p in rule["http"]["paths"]:
                    if p["backend"]["service"]["name"] != app["metadata"]["name"]:
                        continue
                    checked += 1
                    exposed = [s for s in SIDECAR_PATHS for s in (s, prefix + s) if ingress_matches(p, s)]
                    if exposed:
                        errors.append(f"{path.name}: SpinApp {app_id}: ingress path {p['path']} ({p['pathType']}) exposes the sidecar-only {exposed[0]}")
                    if p["pathType"] == "Exact" and prefix and p["path"] == prefix.rstrip("/"):
                        # The bare route base: component-kit's mount answers it with a redirect to
                        # `<base>/`, before the Router (the spin.toml trigger must still reach it).
                        if spin_route(retained, p["path"]) != component:
                            errors.append(f"{path.name}: SpinApp {app_id}: ingress {p['path']} is routed by Spin elsewhere")
                    elif p["pathType"] == "Exact":
                        calls.append(("GET", p["path"], "ingress"))
                    elif not any(pattern_under(pat, unmount(p["path"], prefix)) for _, pat in routes):
                        errors.append(f"{path.name}: SpinApp {app_id}: ingress prefix {p['path']} covers no route of {component}")
        for method, req_path, why in calls:
            checked += 1
            target = spin_route(retained, req_path)
            if target != component:
                errors.append(f"{path.name}: SpinApp {app_id}: {why} {method} {req_path} is routed by Spin to {target or 'nothing (404)'}")
                continue
            inner = unmount(req_path, prefix)
            if not component_handles(routes, method, inner):
                errors.append(f"{path.name}: SpinApp {app_id}: {why} {method} {req_path} reaches {component} as {inner}, which its Router does not serve")
    return checked


def main():
    root = Path(sys.argv[1])
    triggers, env = spin_routes(root)
    errors, checked = [], 0
    for manifest in sys.argv[2:]:
        checked += check_manifest(root, Path(manifest), triggers, env, errors)
    for e in errors:
        print(f"  {e}")
    print(f"{checked} routed requests checked, {len(errors)} misrouted")
    sys.exit(1 if errors or not checked else 0)


if __name__ == "__main__":
    main()
