"""The reminder delivery sinks of the test stack, read as a user would see them: Mailpit's HTTP
API (emails) and a real MQTT subscription to Mosquitto (pushes); plus the notification app's
reminder rows and Dapr jobs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from .stack import ENV, app_url, wait_until
from .taskapi import psql

MAILPIT = f"http://127.0.0.1:{ENV['MAILPIT_HTTP_PORT']}"
MQTT_PORT = int(ENV["MQTT_PORT"])
NOTIFICATION = app_url("notification")
NOTIFICATION_DAPR = f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + 2}"


def push_topic(user_id: str) -> str:
    """The user's push topic: todo/reminders/<hex SHA-256 of the exact user id>."""
    return f"todo/reminders/{hashlib.sha256(user_id.encode()).hexdigest()}"


def parse_time(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc)


def emails(who) -> list[dict]:
    """Every message Mailpit received for a user (its `email`) or an address, addressed to exactly
    that address: summaries with Subject, To and Created."""
    address = who if isinstance(who, str) else who.email
    r = requests.get(f"{MAILPIT}/api/v1/search", params={"query": f'to:"{address}"', "limit": 500}, timeout=10)
    r.raise_for_status()
    return [m for m in r.json().get("messages") or []
            if [t["Address"].lower() for t in m.get("To") or []] == [address.lower()]]


def email_body(message_id: str) -> dict:
    r = requests.get(f"{MAILPIT}/api/v1/message/{message_id}", timeout=10)
    r.raise_for_status()
    return r.json()


def push_credentials(user) -> dict:
    """The user's push credentials, issued by the Task API: username, password, topic."""
    r = user.request("POST", "/api/users/me/push-credentials")
    assert r.status_code == 201 and r.headers.get("cache-control") == "no-store", r.text
    return r.json()


def mqtt_subscribe(topic: str, username: str | None, password: str | None, out: Path,
                   timeout: float = 10, port: int = MQTT_PORT) -> tuple[subprocess.Popen, str]:
    """Starts mosquitto_sub on a topic (anonymous without username) writing to `out`; waits for
    the broker's answer: "granted" (SUBACK with QoS), "denied" (SUBACK 0x80: the broker refuses
    the subscription) or "refused" (CONNACK not 0: not authorised to connect). The process
    and that verdict."""
    auth = ["-u", username, "-P", password] if username else []
    fh = out.open("w")
    proc = subprocess.Popen(
        ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
         *auth, "-F", "%U\t%p", "-d"], stdout=fh, stderr=subprocess.STDOUT, text=True)
    fh.close()
    deadline = time.monotonic() + timeout
    while True:
        text = out.read_text()
        if "CONNACK (" in text and "CONNACK (0)" not in text:
            return proc, "refused"
        if "SUBACK" in text:
            time.sleep(0.1)  # the refusal notice may follow the SUBACK line
            return proc, "denied" if "denied" in out.read_text() else "granted"
        if proc.poll() is not None or time.monotonic() > deadline:
            return proc, "no answer: " + text
        time.sleep(0.05)


class PushInbox:
    """A real MQTT subscription (mosquitto_sub) to a user's push topic with the user's own
    credentials (issued by the Task API); every message with the time it arrived."""

    def __init__(self, user):
        creds = push_credentials(user)
        self.topic = creds["topic"]
        assert self.topic == push_topic(user.id)
        self._out = Path(tempfile.mkstemp(prefix="push-", suffix=".log")[1])
        # The broker applies newly issued credentials moments after the API answers.
        deadline = time.monotonic() + 10
        while True:
            self._proc, verdict = mqtt_subscribe(self.topic, creds["username"], creds["password"], self._out)
            if verdict == "granted":
                break
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if verdict != "refused" or time.monotonic() > deadline:
                self._out.unlink(missing_ok=True)
                raise AssertionError(f"no MQTT subscription: {verdict}")
            time.sleep(0.2)

    def messages(self) -> list[tuple[float, dict]]:
        """(arrival unix time, payload) of each push received so far."""
        out = []
        for line in self._out.read_text().splitlines():
            stamp, _, payload = line.partition("\t")
            try:
                out.append((float(stamp), json.loads(payload)))
            except ValueError:
                continue  # debug lines of mosquitto_sub
        return out

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._out.unlink(missing_ok=True)


def delivered(user, inbox: "PushInbox", titles: list[str]) -> tuple[list[dict], list[tuple[float, dict]]]:
    """Waits for one email (to the user's address) and one push per expected title and checks
    both channels carry exactly those titles; answers the emails and the pushes."""
    n = len(titles)
    mails = wait_until(f"{n} emails", lambda: m if len(m := emails(user)) >= n else None, timeout=60)
    pushes = wait_until(f"{n} pushes", lambda: p if len(p := inbox.messages()) >= n else None, timeout=30)
    assert sorted(m["Subject"] for m in mails) == sorted(titles)
    assert sorted(p["title"] for _, p in pushes) == sorted(titles)
    return mails, pushes


def reminders(task_id: str) -> dict[str, dict]:
    """The task's reminder rows by offset."""
    rows = psql(f"""select offset_text, reminder_id, status, coalesce(job_name, ''),
                    to_char(remind_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    coalesce(to_char(scheduled_for at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')
                    from reminders where task_id = '{task_id}'""")
    return {r[0]: {"reminder_id": r[1], "status": r[2], "job_name": r[3], "remind_at": r[4],
                   "scheduled_for": r[5]} for r in rows}


def deliveries(reminder_id: str) -> dict[str, dict]:
    """The reminder's deliveries by channel."""
    rows = psql(f"""select channel, status, attempts, coalesce(lateness_ms::text, ''), coalesce(last_error, ''),
                    to_char(remind_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                    from reminder_deliveries where reminder_id = '{reminder_id}'""")
    return {r[0]: {"status": r[1], "attempts": int(r[2]), "lateness_ms": int(r[3]) if r[3] else None,
                   "error": r[4], "remind_at": r[5]} for r in rows}


def job(name: str) -> dict | None:
    """The Dapr job of the notification app, or None when it does not exist (daprd answers 500
    for a missing job)."""
    r = requests.get(f"{NOTIFICATION_DAPR}/v1.0-alpha1/jobs/{name}", timeout=10)
    if r.status_code == 200:
        return r.json()
    return None


def publish_alert(event: dict, key: str) -> None:
    r = requests.post(f"{NOTIFICATION_DAPR}/v1.0/publish/pubsub/alerts",
                      params={"metadata.partitionKey": key}, json=event,
                      headers={"content-type": "application/cloudevents+json"}, timeout=30)
    assert r.status_code == 204, r.text
