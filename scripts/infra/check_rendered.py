"""Checks the rendered Helm chart against the contract the local stack proves.

Usage: check_rendered.py <repo root> <dir with rendered-<env>.yaml>

- Subscriptions: same topics, routes and dead-letter topics as runtime-config/local/subscriptions.yaml.
- Resiliency: the same constant retry policy as runtime-config/local/resiliency.yaml.
- SpinApps: components that exist in spin.toml, Dapr annotations in spec.podAnnotations, the
  dapr_url Spin variable, probes, resources.
- pubsub.kafka: SASL/SCRAM over TLS with credentials only through secretKeyRef.
- Credentials never appear as literal values; the Key Vault store uses workload identity.
- The secrets the components read on every request (component-kit's store and key names) come
  through a `secretstores.kubernetes` store from Kubernetes Secrets the Secrets Store CSI driver
  syncs from Key Vault (mounted by every SpinApp, readable by each app's service account), never
  from Key Vault per request.
- Tracing samples 1 % in prod; no `daprsystem` Configuration (the Dapr chart owns it) and no
  object outside the release namespace.
"""
import re
import sys
import tomllib
from pathlib import Path

import yaml

CREDENTIAL_FIELDS = {"saslUsername", "saslPassword", "connectionString", "user", "password", "securityToken"}


def docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def check_env(env, rendered, root, errors):
    def err(msg):
        errors.append(f"{env}: {msg}")

    by_kind = {}
    for d in rendered:
        by_kind.setdefault(d["kind"], []).append(d)

    spin = tomllib.loads((root / "spin.toml").read_text())
    components = set(spin["component"])
    apps = {a["metadata"]["name"]: a for a in by_kind.get("SpinApp", [])}
    if not apps:
        err("no SpinApp rendered")
    for name, app in apps.items():
        spec = app["spec"]
        unknown = set(spec.get("components", [])) - components
        if not spec.get("components") or unknown:
            err(f"SpinApp {name}: components {spec.get('components')} not all in spin.toml ({sorted(components)})")
        ann = spec.get("podAnnotations", {})
        if ann.get("dapr.io/enabled") != "true" or ann.get("dapr.io/app-id") != name or ann.get("dapr.io/app-port") != "80":
            err(f"SpinApp {name}: Dapr annotations missing from spec.podAnnotations")
        if not ann.get("dapr.io/app-token-secret"):
            err(f"SpinApp {name}: no dapr.io/app-token-secret (the components refuse sidecar routes without the token)")
        if "dapr.io/enabled" in app["metadata"].get("annotations", {}):
            err(f"SpinApp {name}: Dapr annotations on metadata are ignored by the injector")
        if not any(v["name"] == "dapr_url" for v in spec.get("variables", [])):
            err(f"SpinApp {name}: no dapr_url Spin variable")
        for probe in ("liveness", "readiness"):
            if not spec.get("checks", {}).get(probe, {}).get("httpGet", {}).get("path"):
                err(f"SpinApp {name}: no {probe} probe")
        if not spec.get("resources", {}).get("limits") or not spec.get("resources", {}).get("requests"):
            err(f"SpinApp {name}: resources incomplete")
        if spec.get("enableAutoscaling") and "replicas" in spec:
            err(f"SpinApp {name}: replicas set while autoscaling")

    local_subs = {s["metadata"]["name"]: s for s in docs(root / "runtime-config/local/subscriptions.yaml")}
    subs = {s["metadata"]["name"]: s for s in by_kind.get("Subscription", [])}
    if set(subs) != set(local_subs):
        err(f"subscriptions {sorted(subs)} differ from local {sorted(local_subs)}")
    for name, local in local_subs.items():
        sub = subs.get(name)
        if not sub:
            continue
        for key in ("topic", "deadLetterTopic", "pubsubname", "bulkSubscribe"):
            if sub["spec"].get(key) != local["spec"].get(key):
                err(f"Subscription {name}: {key} {sub['spec'][key]!r} != local {local['spec'][key]!r}")
        if not sub["spec"]["routes"]["default"].endswith(local["spec"]["routes"]["default"]):
            err(f"Subscription {name}: route {sub['spec']['routes']['default']} does not end with the local route")
        if sub.get("scopes") != local.get("scopes"):
            err(f"Subscription {name}: scopes {sub.get('scopes')} != local {local.get('scopes')}")

    local_res = docs(root / "runtime-config/local/resiliency.yaml")[0]["spec"]["policies"]["retries"]
    res = by_kind.get("Resiliency", [{}])[0].get("spec", {}).get("policies", {}).get("retries")
    if res != local_res:
        err(f"Resiliency retries {res} != local {local_res}")

    comps = {c["metadata"]["name"]: c for c in by_kind.get("Component", [])}
    for c in comps.values():
        for m in c["spec"].get("metadata", []):
            if m["name"] in CREDENTIAL_FIELDS and "value" in m:
                err(f"Component {c['metadata']['name']}: {m['name']} is a literal value, not a secretKeyRef")
    pubsub = comps.get("pubsub")
    if not pubsub:
        err("no pubsub component")
    else:
        meta = {m["name"]: m for m in pubsub["spec"]["metadata"]}
        if meta["authType"]["value"] != "password" or meta["saslMechanism"]["value"] not in ("SHA-256", "SHA-512"):
            err("pubsub: not SASL/SCRAM")
        if env != "local" and meta["disableTls"]["value"] != "false":
            err("pubsub: TLS disabled")
        if meta["consumerGroup"]["value"] != "{appID}":
            err("pubsub: consumer group is not per app id")
    types = {c["spec"]["type"] for c in comps.values()}
    for needed in ("pubsub.kafka", "bindings.postgresql", "secretstores.azure.keyvault", "bindings.twilio.sendgrid",
                   "state.postgresql"):
        if needed not in types:
            err(f"no {needed} component")
    kv = next((c for c in comps.values() if c["spec"]["type"] == "secretstores.azure.keyvault"), None)
    if kv and {m["name"] for m in kv["spec"]["metadata"]} & {"azureClientSecret", "azureCertificate", "azureCertificateFile"}:
        err("Key Vault store uses a client secret or certificate instead of workload identity")
    check_request_secrets(root, by_kind, comps, apps, kv, err)
    check_push_credentials(root, by_kind, comps, err)
    state = [c for c in comps.values() if c["spec"]["type"] == "state.postgresql"]
    for s in state:
        if s["spec"]["version"] != "v2" or s.get("scopes") != ["chat"]:
            err("state.postgresql must be v2 and scoped to chat only")

    configs = {c["metadata"]["name"]: c["spec"] for c in by_kind.get("Configuration", [])}
    # The Dapr chart owns `daprsystem` in its namespace (mTLS: k8s/cluster/addons.yaml); a second
    # owner makes `helm install` fail with an ownership conflict. Nothing leaves the namespace.
    if "daprsystem" in configs:
        err("renders the daprsystem Configuration, which the Dapr chart owns")
    for d in rendered:
        ns = d["metadata"].get("namespace")
        if ns is not None and ns != "todo-platform":
            err(f"{d['kind']} {d['metadata']['name']} is rendered into namespace {ns}, outside the release's")
    app_config = next(iter(configs.values()), {})
    want_rate = {"prod": "0.01"}.get(env)
    rate = app_config.get("tracing", {}).get("samplingRate")
    if want_rate and rate != want_rate:
        err(f"tracing samplingRate {rate}, want {want_rate}")
    if not app_config.get("metric", {}).get("enabled"):
        err("metrics disabled")
    acl = app_config.get("accessControl", {})
    allowed = {(p["appId"], o["name"], o["action"]) for p in acl.get("policies", []) for o in p.get("operations", [])}
    if acl.get("defaultAction") != "deny" or any(p.get("defaultAction") != "deny" for p in acl.get("policies", [])):
        err("service invocation is not denied by default (accessControl.defaultAction)")
    # The Task API's one call into the reminder dispatcher: the path crates/notify names.
    status_rs = (root / "crates/notify/src/status.rs").read_text()
    reminder_jobs = const(status_rs, "ROUTE_BASE") + const(status_rs, "ROUTE")
    want_acl = {("chat", "/api/**", "allow"), ("dashboard", "/api/**", "allow"), ("task-api", reminder_jobs, "allow")}
    if allowed != want_acl:
        err(f"service invocation policies {sorted(allowed)}: only chat and dashboard may call /api/**, "
            f"only task-api {reminder_jobs}")
    verbs = {(p["appId"], o["name"]): o.get("httpVerb") for p in acl.get("policies", []) for o in p.get("operations", [])}
    if verbs.get(("task-api", reminder_jobs)) != ["GET"]:
        err(f"task-api may call {reminder_jobs} with {verbs.get(('task-api', reminder_jobs))}, want GET only")

    policies = {p["metadata"]["name"]: p["spec"] for p in by_kind.get("NetworkPolicy", [])}
    deny = policies.get("default-deny-all")
    if not deny or deny["podSelector"] != {} or set(deny["policyTypes"]) != {"Ingress", "Egress"}:
        err("no default-deny NetworkPolicy for ingress and egress")
    return len(apps)


def const(source: str, name: str) -> str:
    """The value of `pub const NAME: &str = "...";` in Rust source."""
    m = re.search(rf'{name}: &str = "([^"]+)"', source)
    if not m:
        raise SystemExit(f"constant {name} not found")
    return m.group(1)


def check_request_secrets(root, by_kind, comps, apps, kv, err):
    """The secrets the components read on every request come from Kubernetes Secrets the Secrets
    Store CSI driver syncs from Key Vault, through a `secretstores.kubernetes` store: never a Key
    Vault call per request. The store and key names are the ones component-kit asks for."""
    kit = root / "components/component-kit/src"
    bearer, app_token = (kit / "bearer.rs").read_text(), (kit / "app_token.rs").read_text()
    store = const(bearer, "SECRET_STORE")
    keys = {const(bearer, "JWT_SECRET"), const(bearer, "JWT_SECRET_PREVIOUS"), const(app_token, "APP_API_TOKEN_SECRET")}
    read = comps.get(store)
    if not read:
        err(f"no Dapr secret store named {store!r}, the store the components read per request")
    elif read["spec"]["type"] != "secretstores.kubernetes":
        err(f"secret store {store!r}, read on every request, is {read['spec']['type']}, not secretstores.kubernetes "
            "(a Key Vault store would be called on every request)")
    if kv and kv["metadata"]["name"] == store:
        err(f"the Key Vault store is the per-request store {store!r}")
    classes = {c["metadata"]["name"]: c["spec"] for c in by_kind.get("SecretProviderClass", [])}
    synced = {}
    for name, spc in classes.items():
        objects = (yaml.safe_load(spc.get("parameters", {}).get("objects") or "{}") or {}).get("array") or []
        names = {yaml.safe_load(o)["objectName"] for o in objects}
        for so in spc.get("secretObjects", []):
            data = {d["key"]: d["objectName"] for d in so.get("data", [])}
            if spc.get("provider") == "azure" and all(o in names for o in data.values()):
                synced[so["secretName"]] = (name, data)
    for key in sorted(keys):
        if synced.get(key, (None, {}))[1].get(key) != key:
            err(f"per-request secret {key!r} is not synced from Key Vault into a Kubernetes Secret {key!r} (key {key!r})")
    token_secret = {a["spec"].get("podAnnotations", {}).get("dapr.io/app-token-secret") for a in apps.values()}
    for t in token_secret - {None}:
        if synced.get(t, (None, {}))[1].get("token") is None:
            err(f"app token Secret {t!r} has no synced `token` key (the Dapr injector reads it)")
    needed = {synced[k][0] for k in keys if k in synced}
    for name, app in apps.items():
        mounted = {v["csi"]["volumeAttributes"].get("secretProviderClass") for v in app["spec"].get("volumes", [])
                   if v.get("csi", {}).get("driver") == "secrets-store.csi.k8s.io"}
        mounts = {m["name"] for m in app["spec"].get("volumeMounts", [])}
        vols = {v["name"] for v in app["spec"].get("volumes", [])}
        if not needed <= mounted or not vols <= mounts:
            err(f"SpinApp {name}: does not mount the CSI volume of {sorted(needed)} (the driver syncs only while a pod mounts it)")
    roles = {r["metadata"]["name"]: r for r in by_kind.get("Role", [])}
    readers = {}
    for b in by_kind.get("RoleBinding", []):
        role = roles.get(b["roleRef"]["name"])
        if not role:
            continue
        granted = {n for rule in role["rules"] if "secrets" in rule.get("resources", []) and "get" in rule.get("verbs", [])
                   for n in rule.get("resourceNames", [])}
        for s in b.get("subjects", []):
            if s["kind"] == "ServiceAccount":
                readers.setdefault(s["name"], set()).update(granted)
    for name, app in apps.items():
        sa = app["spec"].get("serviceAccountName")
        if not keys <= readers.get(sa, set()):
            err(f"SpinApp {name}: service account {sa} may not get the Secrets {sorted(keys)}")


def check_push_credentials(root, by_kind, comps, err):
    """Per-user push credentials in production as locally: the Task API's push-issuer binding
    (the name handlers/settings.rs invokes) publishes on the dynamic-security control topic of the chart's
    Mosquitto, which refuses anonymous clients; reminders go to the same broker."""
    issuer_name = const((root / "components/task-api/src/handlers/settings.rs").read_text(), "PUSH_ISSUER")
    issuer, push = comps.get(issuer_name), comps.get("push")
    if not push:
        err("no push component")
        return
    if push["spec"]["type"] != "bindings.mqtt3" or not issuer:
        err(f"no {issuer_name!r} binding next to an MQTT push binding: POST /api/users/me/push-credentials answers 503")
        return
    meta = {m["name"]: m for m in issuer["spec"]["metadata"]}
    if issuer["spec"]["type"] != "bindings.mqtt3" or meta.get("topic", {}).get("value") != "$CONTROL/dynamic-security/v1":
        err(f"{issuer_name}: not an MQTT binding on the dynamic-security control topic")
    if issuer.get("scopes") != ["task-api"]:
        err(f"{issuer_name}: scoped to {issuer.get('scopes')}, must be the task-api only (it administers the broker's accounts)")
    for c in (push, issuer):
        url = {m["name"]: m for m in c["spec"]["metadata"]}.get("url", {})
        if "secretKeyRef" not in url:
            err(f"{c['metadata']['name']}: broker URL (it carries a password) is not a secretKeyRef")
        if "{podName}" not in {m["name"]: m for m in c["spec"]["metadata"]}.get("consumerID", {}).get("value", ""):
            err(f"{c['metadata']['name']}: MQTT client id not unique per pod (consumerID without {{podName}})")
    config = next((cm["data"] for cm in by_kind.get("ConfigMap", []) if cm["metadata"]["name"] == "push-broker"), None)
    if not config:
        err("no push-broker ConfigMap (the broker the push bindings reach)")
        return
    conf = config["mosquitto.conf"].splitlines()
    if "allow_anonymous false" not in conf or not any(line.startswith("plugin ") and "dynamic_security" in line for line in conf):
        err("push broker: anonymous clients allowed or no dynamic-security plugin")


def main():
    root, work = Path(sys.argv[1]), Path(sys.argv[2])
    errors = []
    for env in ("local", "staging", "prod"):
        n = check_env(env, docs(work / f"rendered-{env}.yaml"), root, errors)
        print(f"{env}: {n} SpinApps checked")
    for e in errors:
        print("ERROR", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
