#!/usr/bin/env bash
# Reminder delivery under load on a running stack: creates tasks through the Task API whose
# reminders (PT20S, PT10S, PT0S before due) all fall due inside one window, then measures, per
# channel, how late each reminder reached the user: email as received by Mailpit (its
# `Created` time), push as received by a real MQTT subscriber (mosquitto_sub), both against
# the reminder's scheduled time. Also reports the lateness the dispatcher recorded itself.
#   scripts/bench-reminders.sh                      against the test stack (scripts/stack.sh test up)
#   STACK=dev scripts/bench-reminders.sh            against the dev stack
#   REMINDERS=1500 WINDOW=60 LEAD=60 USERS=210 LOAD=2 scripts/bench-reminders.sh
# LOAD=N keeps N busy processes running from the first reminder time until the last delivery (a
# loaded machine). Every delivered email is checked whole: its recipient, its subject and the
# reminder id in its body must all belong to one task of one user (mismatched_email counts the
# others; the SMTP binding of stock Dapr 1.18 swapped recipients and subjects under load).
# Last line: email_p99_ms=<a> push_p99_ms=<b> email_p50_ms=.. push_p50_ms=.. delivered_email=..
# delivered_push=.. reminders=.. users=.. schedule_s=.. mismatched_email=..
source "$(dirname "$0")/lib/common.sh"
STACK="${STACK:-test}"
REMINDERS="${REMINDERS:-1050}"
WINDOW="${WINDOW:-60}"
LEAD="${LEAD:-60}"
USERS="${USERS:-210}"
LOAD="${LOAD:-0}"
PY="$TOOLS/venv/bin/python"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
API="http://127.0.0.1:$APP_PORT_BASE"
curl -fsS "$API/readyz" >/dev/null || die "task-api on $API is not ready: start the stack first (scripts/stack.sh $STACK up)"
curl -fsS "http://127.0.0.1:$((APP_PORT_BASE + 2))/notification/readyz" >/dev/null || die "reminder-dispatcher is not ready"
curl -fsS "http://127.0.0.1:$MAILPIT_HTTP_PORT/livez" >/dev/null || die "mailpit is not running"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub missing: scripts/setup.sh apt"

log "bench: $REMINDERS reminders due within ${WINDOW}s, starting ${LEAD}s from now, $USERS users, $LOAD busy processes"
export API REMINDERS WINDOW LEAD USERS LOAD
exec "$PY" - <<'PYEOF'
import base64, hashlib, hmac, json, os, re, subprocess, sys, tempfile, time, uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
import requests

env = os.environ
ROOT = env["ROOT"]
API, MAILPIT = env["API"], f"http://127.0.0.1:{env['MAILPIT_HTTP_PORT']}"
N, WINDOW, LEAD, USERS, LOAD = (int(env[k]) for k in ("REMINDERS", "WINDOW", "LEAD", "USERS", "LOAD"))
OFFSETS = {"PT20S": 20, "PT10S": 10, "PT0S": 0}
SECRET = json.load(open(f"{ROOT}/runtime-config/local/secrets.json"))["jwt-secret"].encode()
RUN = uuid.uuid4().hex[:8]

def say(msg):
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def token(sub):
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    # The email claim is where the user's reminder emails go (no address is made up from the id).
    c = b64(json.dumps({"sub": sub, "email": f"{sub}@users.todo.local", "iat": now, "exp": now + 3600,
                        "iss": os.environ.get("JWT_ISSUER") or "todo-platform",
                        "aud": os.environ.get("JWT_AUDIENCE") or "todo-api"}).encode())
    return f"{h}.{c}." + b64(hmac.new(SECRET, f"{h}.{c}".encode(), hashlib.sha256).digest())

def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

def parse(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00"))

def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]

users = [f"bench-{RUN}-{i}" for i in range(USERS)]
tokens = {u: token(u) for u in users}
tasks = -(-N // len(OFFSETS))
start = datetime.now(timezone.utc).replace(microsecond=0)
first = start + timedelta(seconds=LEAD)
span = max(1, WINDOW - max(OFFSETS.values()))
plan = []  # (user, title, due)
for i in range(tasks):
    due = first + timedelta(seconds=max(OFFSETS.values()) + (i * span) // tasks)
    plan.append((users[i % len(users)], f"bench {RUN} #{i}", due))
due_of = {title: due for _, title, due in plan}
# Each user's push topic: todo/reminders/<hex SHA-256 of the user id> (crates/domain/src/channel.rs).
bench_topics = {f"todo/reminders/{hashlib.sha256(u.encode()).hexdigest()}" for u in users}
user_of = {title: user for user, title, _ in plan}

out = tempfile.NamedTemporaryFile("w", delete=False, suffix=".mqtt")
# The stack's push-observer account may read every user's topic (anonymous clients cannot connect).
observer = open(f"{env['STACK_DIR']}/secrets/mqtt-push-observer").read().strip()
sub = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", env["MQTT_PORT"], "-q", "1",
                        "-u", "push-observer", "-P", observer,
                        "-t", "todo/reminders/+", "-F", "%U\t%t\t%p", "-d"],
                       stdout=out, stderr=subprocess.STDOUT)
sub_deadline = time.monotonic() + 15
while "SUBACK" not in open(out.name).read():
    if sub.poll() is not None or time.monotonic() > sub_deadline:
        raise SystemExit(f"MQTT subscription failed: {open(out.name).read()}")
    time.sleep(0.05)

http = requests.Session()
def create(item):
    user, title, due = item
    r = http.post(f"{API}/api/tasks", headers={"authorization": f"Bearer {tokens[user]}"},
                     json={"title": title, "due_date": iso(due), "reminders": list(OFFSETS)}, timeout=60)
    if r.status_code != 201:
        raise SystemExit(f"create failed: {r.status_code} {r.text}")
    return r.json()["task_id"]

t = time.monotonic()
with ThreadPoolExecutor(8) as pool:
    task_ids = list(pool.map(create, plan))
say(f"created {len(task_ids)} tasks ({len(task_ids) * len(OFFSETS)} reminders) in {time.monotonic() - t:.1f}s; "
    f"due from {iso(first)} to {iso(first + timedelta(seconds=WINDOW))}")

dsn = env["PG_DSN"]
def sql(q):
    return subprocess.run(["psql", dsn, "-AtF", "\t", "-c", q], check=True, capture_output=True, text=True).stdout
ids = "','".join(task_ids)
total = len(task_ids) * len(OFFSETS)
while True:
    n = int(sql(f"select count(*) from reminders where task_id in ('{ids}') and scheduled_for is not null").strip())
    if n >= total or datetime.now(timezone.utc) > first + timedelta(seconds=WINDOW):
        break
    time.sleep(0.5)
schedule_s = (datetime.now(timezone.utc) - start).total_seconds()
say(f"{n}/{total} jobs scheduled {schedule_s:.1f}s after the start "
    f"({'before' if datetime.now(timezone.utc) < first else 'AFTER'} the first reminder time)")

# A loaded machine while the reminders are delivered: LOAD busy processes (ended below, and by
# their own time limit if this script dies).
while datetime.now(timezone.utc) < first:
    time.sleep(0.2)
burners = [subprocess.Popen([sys.executable, "-c", f"import time\nend = time.time() + {WINDOW + 120}\nwhile time.time() < end: pass"])
           for _ in range(LOAD)]
if LOAD:
    say(f"{LOAD} busy processes running while the reminders fall due")

deadline = first + timedelta(seconds=WINDOW + 90)
def mails():
    got, start_at = [], 0
    while True:
        r = http.get(f"{MAILPIT}/api/v1/search", params={"query": f"subject:{RUN}", "start": start_at,
                                                             "limit": 500}, timeout=60).json()
        page = r.get("messages") or []
        got += page
        start_at += len(page)
        if len(page) < 500:
            return got
def pushes():
    res = []
    for line in open(out.name).read().splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3 or parts[1] not in bench_topics:
            continue
        try:
            res.append((float(parts[0]), json.loads(parts[2])))
        except ValueError:
            pass
    return res
while datetime.now(timezone.utc) < deadline:
    if datetime.now(timezone.utc) > first + timedelta(seconds=WINDOW):
        if len(pushes()) >= total and len(mails()) >= total:
            break
    time.sleep(2)
sub.terminate()
for b in burners:
    b.kill()

title_of_task = {task_id: title for task_id, (_, title, _) in zip(task_ids, plan)}
task_of_reminder = dict(line.split("\t") for line in sql(
    f"select reminder_id, task_id from reminders where task_id in ('{ids}')").splitlines())
body_reminder = re.compile(r"Reminder ([0-9a-f-]{36})")

def body_title(message_id):
    """The title of the task whose reminder id the email's body names."""
    html = http.get(f"{MAILPIT}/api/v1/message/{message_id}", timeout=60).json().get("HTML", "")
    found = body_reminder.search(html)
    return title_of_task.get(task_of_reminder.get(found[1])) if found else None

subject = re.compile(r"^(?:Due now: (?P<t0>.+)|Reminder: (?P<t>.+) is due in (?P<n>\d+) seconds)$")
email_ms, push_ms = [], []
mismatched = 0  # an email whose recipient, subject and body do not all belong to one task
for m in mails():
    g = subject.match(m["Subject"])
    if not g or (g["t0"] or g["t"]) not in user_of:
        mismatched += 1
        continue
    title = g["t0"] or g["t"]
    if [t["Address"] for t in m["To"]] != [f"{user_of[title]}@users.todo.local"] or body_title(m["ID"]) != title:
        mismatched += 1
    remind_at = due_of[title] - timedelta(seconds=int(g["n"] or 0))
    email_ms.append((parse(m["Created"]) - remind_at).total_seconds() * 1000)
for arrived, p in pushes():
    push_ms.append((arrived - parse(p["remind_at"]).timestamp()) * 1000)
recorded = {}
for line in sql(f"select d.channel, d.lateness_ms from reminder_deliveries d join reminders r using (reminder_id) "
                f"where r.task_id in ('{ids}') and d.status = 'sent'").splitlines():
    ch, ms = line.split("\t")
    recorded.setdefault(ch, []).append(int(ms))

print(f"{'channel':<8} {'delivered':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  (measured at the sink)")
for name, xs in (("email", email_ms), ("push", push_ms)):
    print(f"{name:<8} {len(xs):>6}/{total:<4} {pct(xs, 50):>8.0f} {pct(xs, 95):>8.0f} {pct(xs, 99):>8.0f} "
          f"{max(xs or [float('nan')]):>8.0f}")
print(f"emails whose recipient, subject and body do not belong together: {mismatched}")
for name in ("email", "push"):
    xs = recorded.get(name, [])
    print(f"recorded by the dispatcher, {name}: p50 {pct(xs, 50):.0f} ms, p99 {pct(xs, 99):.0f} ms ({len(xs)} rows)")
print(f"email_p99_ms={pct(email_ms, 99):.0f} push_p99_ms={pct(push_ms, 99):.0f} "
      f"email_p50_ms={pct(email_ms, 50):.0f} push_p50_ms={pct(push_ms, 50):.0f} "
      f"email_p95_ms={pct(email_ms, 95):.0f} push_p95_ms={pct(push_ms, 95):.0f} "
      f"delivered_email={len(email_ms)} delivered_push={len(push_ms)} reminders={total} users={len(set(user_of.values()))} schedule_s={schedule_s:.1f} "
      f"mismatched_email={mismatched}")
PYEOF
