"""The whole platform on the local cluster, deployed as scripts/dev-up.sh --cluster does
(scripts/cluster-deploy.sh: the production chart with values-cluster.yaml, `helm upgrade --install
--atomic --wait` and scripts/ci/wait-rollouts.sh), used from outside through its NodePorts:
every app under the Spin shim with its daprd, only the platform's pods reaching PostgreSQL and Kafka,
mTLS between sidecars (Sentry certificates), the deploy workflow's post-deploy check (recurring task
completed -> next instance, its reminder job in the Dapr scheduler), a reminder delivered by email
and push, a chat command carried out by the Task API through Dapr service invocation, a dashboard
page's live update; node failure stand-ins (kill -9 of a pod's Spin shim, of the kubelet) lose
nothing; then a release that never becomes ready is rolled back by the workflow's commands, and a
good one deploys after it.

PostgreSQL, Kafka (SASL/SCRAM), Mailpit, Mosquitto and Centrifugo are host processes (stack
`cluster`); the tests read the sinks there with the platform suite's helpers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import KUBECONFIG, ROOT, STATE, apply, kget, kubectl, probe_pod, wait_running
from test_spinkube import app_shim_pid, pods_ready, spinkube_ready

# The platform suite's helpers, pointed at stack `cluster` (its sinks' ports) before they load.
os.environ["TEST_STACK"] = "cluster"
sys.path.insert(0, str(ROOT / "tests/platform"))
from support.live import Live  # noqa: E402
from support.notify import PushInbox, delivered, email_body  # noqa: E402
from support.stack import ENV, wait_until  # noqa: E402
from support.taskapi import SECRET, User, iso  # noqa: E402

NAMESPACE = "todo-platform"
NODE = ENV["POD_LISTEN"]
TASK_API = f"http://{NODE}:14380"
CHAT = f"http://{NODE}:14381/chat"
DASHBOARD = f"http://{NODE}:14382/dashboard"
LIVE = f"ws://127.0.0.1:{ENV['CENTRIFUGO_PORT']}/connection/websocket"
HELM = str(ROOT / ".tools/bin/helm")
APPS = ["task-api", "recurrence-engine", "notification", "chat", "dashboard"]


class ClusterUser(User):
    """A test user whose requests go to the Task API's NodePort."""

    def request(self, method: str, path: str, **kw) -> requests.Response:
        headers = self.headers(**kw.pop("headers", {}))
        return requests.request(method, f"{TASK_API}{path}", headers=headers, timeout=30, **kw)


def tool_env() -> dict[str, str]:
    """The environment of the deploy scripts: the cluster's kubectl and helm first on PATH."""
    path = f"{ROOT / '.tools/cluster/bin'}:{ROOT / '.tools/bin'}:{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "KUBECONFIG": KUBECONFIG}


def revisions(last: int) -> list[dict]:
    """The release's last revisions (helm history), oldest first."""
    out = subprocess.run([HELM, "history", "todo", "-n", NAMESPACE, "--max", str(last), "-o", "json"],
                         capture_output=True, text=True, env=tool_env(), check=True).stdout
    return json.loads(out)


def deploy(**env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts/cluster-deploy.sh")], capture_output=True, text=True,
                          timeout=900, env={**tool_env(), **env})


@pytest.fixture(scope="module")
def platform() -> dict[str, float]:
    """The platform deployed (or updated) on the cluster; answers the deploy's duration."""
    why = spinkube_ready()
    if why:
        pytest.skip(why)
    start = time.monotonic()
    p = deploy()
    assert p.returncode == 0, f"scripts/cluster-deploy.sh failed:\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}"
    took = time.monotonic() - start
    print(f"» cluster-deploy.sh (host services, push, Secrets, helm upgrade, rollouts): {took:.1f} s")
    return {"deploy_s": took}


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def pending(user: User) -> list[dict]:
    r = user.request("GET", "/api/tasks?status=pending")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_every_app_runs_under_the_spin_shim_with_its_sidecar_and_its_components(platform):
    """Each app's pod: the Spin shim's RuntimeClass, daprd injected, every container ready, and
    the sidecar loaded the chart's components (Kafka over SASL/SCRAM, the PostgreSQL binding)."""
    for app in APPS:
        [pod] = [p for p in kget("pods", "-n", NAMESPACE, "-l", f"core.spinkube.dev/app-name={app}")["items"]
                 if not p["metadata"].get("deletionTimestamp")]
        handler = kget("runtimeclass", pod["spec"]["runtimeClassName"])["handler"]
        assert handler == "spin-v2", f"{app}: handler {handler}"
        assert all(s["ready"] for s in pod["status"]["containerStatuses"]), pod["status"]["containerStatuses"]
        assert {c["name"] for c in pod["spec"]["containers"]} == {app, "daprd"}
    logs = kubectl("logs", "-n", NAMESPACE, "deploy/task-api", "-c", "daprd").stdout
    assert "Component loaded: pubsub (pubsub.kafka/v1)" in logs and "Configuring SASL Password authentication" in logs
    assert "Component loaded: tasks-db (bindings.postgresql/v1)" in logs


def connects(pod: str, host: str, port: int) -> bool:
    """Whether a TCP connection from the probe pod to host:port opens (busybox nc, 3 s)."""
    p = kubectl("exec", "-n", NAMESPACE, pod, "--", "sh", "-c", f"nc -w 3 {host} {port} </dev/null", check=False, timeout=30)
    return p.returncode == 0


def test_only_the_platforms_pods_reach_postgres_and_kafka(platform):
    """The chart's policies in the platform's namespace: a pod without the platform's label reaches
    neither the host's PostgreSQL nor Kafka's pod listener (default deny); the same pod image with
    the label does (the sidecars' egress rule)."""
    suffix = uuid.uuid4().hex[:6]
    stranger, member = f"stranger-{suffix}", f"member-{suffix}"
    apply([probe_pod(NAMESPACE, stranger, {"app": "stranger"}, ["sleep", "300"]),
           probe_pod(NAMESPACE, member, {"app.kubernetes.io/part-of": "todo-platform"}, ["sleep", "300"])])
    try:
        wait_running(NAMESPACE, [stranger, member])
        for port in (int(ENV["PG_PORT"]), int(ENV["KAFKA_POD_PORT"])):
            assert not connects(stranger, NODE, port), f"an unlabelled pod reached {NODE}:{port}"
            assert connects(member, NODE, port), f"a platform pod did not reach {NODE}:{port}"
    finally:
        kubectl("delete", "pod", "-n", NAMESPACE, stranger, member, "--wait=false", check=False)


def test_sidecar_to_sidecar_traffic_is_mutual_tls_with_sentry_certificates(platform):
    """The port other sidecars invoke the Task API's on (50002) speaks TLS only: it presents a
    workload certificate the cluster's Sentry issued for the Task API's SPIFFE id (24 h), and it
    refuses a client without a certificate (TLS 1.3 alert `certificate required`)."""
    ip = pods_ready(NAMESPACE, "task-api")["status"]["podIP"]
    p = subprocess.run(["openssl", "s_client", "-connect", f"{ip}:50002", "-showcerts"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert "alert certificate required" in p.stderr, p.stderr[-1500:]
    leaf = p.stdout[p.stdout.index("-----BEGIN CERTIFICATE-----"):p.stdout.index("-----END CERTIFICATE-----") + 25]
    info = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-issuer", "-startdate", "-enddate"],
                          input=leaf, capture_output=True, text=True, check=True).stdout
    print(info)
    assert f"/ns/{NAMESPACE}/task-api" in info and "URI:spiffe://" in info, info
    assert "issuer=O = spiffe://cluster.local/ns/dapr-system/dapr-sentry" in info, info
    dates = dict(line.split("=", 1) for line in info.splitlines() if line.startswith(("notBefore", "notAfter")))
    lifetime = datetime.strptime(dates["notAfter"], "%b %d %H:%M:%S %Y %Z") - datetime.strptime(dates["notBefore"], "%b %d %H:%M:%S %Y %Z")
    # Sentry back-dates a certificate by its allowed clock skew (15 min, k8s/cluster/addons.yaml).
    assert timedelta(hours=23) < lifetime <= timedelta(hours=24, minutes=16), lifetime


def test_the_deploy_workflows_post_deploy_check_passes_through_the_node_port(platform):
    """scripts/ci/post_deploy.py, unchanged: smoke checks, a recurring task with a reminder is
    completed, its next instance appears (Kafka -> recurrence engine) and the reminder's job is
    in the Dapr scheduler (Task API -> notification by Dapr invocation, mTLS between sidecars)."""
    p = subprocess.run([sys.executable, str(ROOT / "scripts/ci/post_deploy.py")], capture_output=True, text=True,
                       timeout=240, env={**os.environ, "BASE_URL": TASK_API, "JWT_SECRET": SECRET.decode()})
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "post-deploy: passed" in p.stdout and "is in the Dapr scheduler" in p.stdout


def test_a_reminder_arrives_by_email_and_push(platform):
    """A task due in a few seconds with an at-due reminder: the notification app's job fires
    (the cluster's Dapr scheduler), the email reaches the host's Mailpit, the push the user's own
    MQTT topic on the host's Mosquitto (credentials issued by the Task API's push-issuer binding)."""
    user = ClusterUser()
    inbox = PushInbox(user)
    try:
        title = f"Cluster reminder {uuid.uuid4().hex[:6]}"
        task = user.create(title=title, due_date=iso(now() + timedelta(seconds=12)), reminders=["PT0S"])
        mails, pushes = delivered(user, inbox, [f"Due now: {title}"])
        assert title in email_body(mails[0]["ID"])["Text"]
        assert pushes[0][1]["task_id"] == task["task_id"] and pushes[0][1]["reminder_id"] in email_body(mails[0]["ID"])["Text"]
    finally:
        inbox.close()


def test_a_chat_command_is_carried_out_by_the_task_api_through_dapr_invocation(platform):
    """The chat app's sidecar invokes the Task API's (port 50002, admitted by the chart's
    NetworkPolicies); the task it created is the user's, read back from the Task API."""
    user = ClusterUser()
    r = requests.post(f"{CHAT}/api/chat", json={"message": "add water the plants tomorrow at 9am", "tzid": "Europe/Paris"},
                      headers=user.headers(), timeout=60)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["reply"].startswith('Added "water the plants"'), answer
    [task] = pending(user)
    assert task["title"] == "water the plants" and task["task_id"] == answer["task"]["task_id"]


def test_a_dashboard_page_sees_its_users_change_live(platform):
    """A page subscribed to its user's channel (host Centrifugo) receives the change the dashboard
    recorded from Kafka and published through its live-sync binding."""
    user = ClusterUser()
    r = requests.get(f"{DASHBOARD}/api/live", headers=user.headers(), timeout=30)
    assert r.status_code == 200, r.text
    with Live(user.token, url=LIVE) as page:
        assert "connect" in page.connect()
        assert "subscribe" in page.subscribe(r.json()["channel"])
        task = user.create(title="Live on the cluster", due_date=iso(now() + timedelta(days=2)))
        pubs = wait_until("a live publication", lambda: page.publications(1, timeout=2) or None, timeout=60)
    assert task["task_id"] in str(pubs[0]["data"]), pubs


def test_a_reminder_set_while_the_notification_pod_is_killed_is_delivered(platform):
    """Node failure stand-in: kill -9 of the Spin shim running the notification app's pod (its Wasm
    app and its daprd). Once the kubelet has seen the container die, a task with a reminder is
    created: its event waits in Kafka, and when the pod is back the reminder's job is scheduled and
    the reminder arrives by email and push. Prints kill -> pod Ready again (seed SC-009: < 30 s)."""
    user = ClusterUser()
    inbox = PushInbox(user)
    try:
        pod = pods_ready(NAMESPACE, "notification")
        assert pod, "notification not Ready before the kill"
        before = next(c["restartCount"] for c in pod["status"]["containerStatuses"] if c["name"] == "notification")
        killed = time.monotonic()
        os.kill(app_shim_pid(pod, "notification"), signal.SIGKILL)

        def down():
            current = kget("pod", pod["metadata"]["name"], "-n", NAMESPACE)
            status = next(c for c in current["status"]["containerStatuses"] if c["name"] == "notification")
            return "running" not in status["state"] or status["restartCount"] > before or None

        wait_until("the notification container down", down, timeout=30, interval=0.1)
        title = f"Survive the node {uuid.uuid4().hex[:6]}"
        task = user.create(title=title, due_date=iso(now() + timedelta(seconds=45)), reminders=["PT0S"])
        wait_until("the notification pod Ready again", lambda: pods_ready(NAMESPACE, "notification"), timeout=120, interval=0.5)
        recovered = time.monotonic() - killed
        mails, pushes = delivered(user, inbox, [f"Due now: {title}"])
        print(f"» kill -9 of the notification pod's Spin shim → Ready again after {recovered:.1f} s; the reminder of a task "
              f"created while it was down arrived by email and push {time.monotonic() - killed:.1f} s after the kill")
        assert pushes[0][1]["task_id"] == task["task_id"]
        assert recovered < 60, f"notification not Ready {recovered:.1f} s after the kill"
    finally:
        inbox.close()


def test_the_platform_serves_through_a_kill_9_of_the_kubelet(platform):
    """Node failure stand-in: kill -9 of the kubelet. The pods keep running and the Task API keeps
    answering through its NodePort (creates while the kubelet is gone all succeed); `scripts/cluster.sh
    up` starts a new kubelet, the node is Ready again and every app still runs the same, Ready pod.
    Prints the time from the kill to the node Ready."""
    pods = {app: pods_ready(NAMESPACE, app) for app in APPS}
    assert all(pods.values()), {a: bool(p) for a, p in pods.items()}
    user = ClusterUser()
    killed = time.monotonic()
    os.kill(int((STATE / "run/kubelet.pid").read_text()), signal.SIGKILL)
    for i in range(5):
        user.create(title=f"While the kubelet is gone {i}", due_date=iso(now() + timedelta(days=1)))
        time.sleep(0.5)
    up = subprocess.run(["bash", str(ROOT / "scripts/cluster.sh"), "up"], capture_output=True, text=True, timeout=300, env=tool_env())
    assert up.returncode == 0, up.stderr[-2000:]
    ready = time.monotonic() - killed
    node = kget("nodes")["items"][0]
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    print(f"» kill -9 of the kubelet, 5 creates meanwhile, scripts/cluster.sh up → node Ready {ready:.1f} s after the kill")
    for app, pod in pods.items():
        now_ready = wait_until(f"{app} Ready after the kubelet restart", lambda a=app: pods_ready(NAMESPACE, a), timeout=60)
        assert now_ready["metadata"]["uid"] == pod["metadata"]["uid"], f"{app}: its pod was replaced"
    assert len([t for t in pending(user) if t["title"].startswith("While the kubelet is gone")]) == 5


def helm_upgrade(tag: str, *extra: str) -> subprocess.CompletedProcess:
    """The deploy workflow's command, with this cluster's values."""
    values = ROOT / ".cluster-data/values-node.yaml"
    return subprocess.run(
        [HELM, "upgrade", "--install", "todo", str(ROOT / "k8s/chart"), "--namespace", NAMESPACE,
         "--values", str(ROOT / "k8s/chart/values-cluster.yaml"), "--values", str(values),
         "--set-string", "image.repository=127.0.0.1:14500/todo-platform", "--set-string", f"image.tag={tag}",
         *extra, "--atomic", "--wait", "--timeout", "2m"],
        capture_output=True, text=True, timeout=300, env=tool_env())


def test_a_release_that_never_becomes_ready_is_rolled_back_then_a_good_one_deploys(platform):
    """A release whose SpinApps answer 503 on /readyz (their Dapr URL points nowhere): `helm
    upgrade --atomic --wait` passes (Helm does not track SpinApps), scripts/ci/wait-rollouts.sh
    detects it and rolls back within 2 minutes of the upgrade; the revision before it serves again;
    then a good release deploys."""
    tag = kget("spinapp", "task-api", "-n", NAMESPACE)["spec"]["image"].rsplit(":", 1)[1]
    before = revisions(1)[-1]["revision"]
    start = time.monotonic()
    up = helm_upgrade(tag, "--set-string", "daprUrl=http://127.0.0.1:3599")
    assert up.returncode == 0, up.stderr
    wait = subprocess.run(["bash", str(ROOT / "scripts/ci/wait-rollouts.sh"), NAMESPACE], capture_output=True,
                          text=True, timeout=400, env=tool_env())
    rolled_back = time.monotonic() - start
    print(wait.stdout[-2500:])
    assert wait.returncode != 0, "wait-rollouts.sh accepted a release that never became ready"
    assert "rolled back" in wait.stdout + wait.stderr
    print(f"» bad release: upgrade -> rolled back and the previous revision rolled out in {rolled_back:.1f} s")
    assert rolled_back < 120, f"rollback took {rolled_back:.1f} s"
    for app in APPS:
        assert "3599" not in str(kget("spinapp", app, "-n", NAMESPACE)["spec"]["variables"])
    assert requests.get(f"{TASK_API}/readyz", timeout=10).status_code == 200
    # A good release after it: the same chart and image through the same commands.
    start = time.monotonic()
    good = helm_upgrade(tag)
    assert good.returncode == 0, good.stderr
    wait = subprocess.run(["bash", str(ROOT / "scripts/ci/wait-rollouts.sh"), NAMESPACE], capture_output=True,
                          text=True, timeout=400, env=tool_env())
    assert wait.returncode == 0, wait.stdout + wait.stderr
    print(f"» good release after it: ready in {time.monotonic() - start:.1f} s")
    # before, the bad one (failed/superseded), the rollback to before, the good one (deployed).
    history = revisions(4)
    assert [h["revision"] for h in history] == [before, before + 1, before + 2, before + 3], history
    assert history[-1]["status"] == "deployed" and "Rollback" in history[-2]["description"], history
