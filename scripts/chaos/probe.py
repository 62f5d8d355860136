"""One end-to-end operation through every path of the platform, used to time a recovery: a
recurring task with a reminder is created and completed through the Task API (task-api, its
sidecar, PostgreSQL, the outbox publish to Kafka); the dashboard records both events, the
recurrence engine processes the completion, the notification app cancels the completed
instance's reminder and schedules the next instance's one on the Dapr scheduler; the chat app
answers ready through its sidecar."""

from __future__ import annotations

import time
from datetime import timedelta

import requests

from load import Signer, iso, now
from stackctl import TASK_API, app_url, psql


class Probe:
    def __init__(self, run: str, signer: Signer):
        self.user = f"chaos-{run}-probe"
        self.signer = signer

    def _call(self, method: str, path: str, body: dict | None = None) -> dict | None:
        try:
            r = requests.request(method, f"{TASK_API}{path}", json=body, timeout=5,
                                 headers={"authorization": f"Bearer {self.signer.token(self.user)}"})
        except requests.RequestException:
            return None
        return r.json() if 200 <= r.status_code < 300 else None

    def _effects(self, created: dict, completed_event_ids: list[str]) -> bool:
        tid, sid = created["task_id"], created["series_id"]
        rows = psql(f"""select
            (select count(*) from dashboard_changes where task_id::text = '{tid}'),
            (select count(*) from processed_events where consumer = 'recurrence-engine/task-operations'
               and event_id in (select event_id::text from outbox where task_id = '{tid}' and type = 'v1.task.completed')),
            (select count(*) from reminders where task_id = '{tid}' and status = 'cancelled' and job_name is null),
            (select count(*) from reminders r join tasks t using (task_id) where t.series_id = '{sid}'
               and t.task_id <> '{tid}' and r.job_name is not null)""")
        dash, engine, cancelled, scheduled = (int(x) for x in rows[0])
        return dash >= 2 and engine == 1 and cancelled == 1 and scheduled >= 1

    def _chat_ready(self) -> bool:
        try:
            return requests.get(f"{app_url('chat')}/readyz", timeout=3).ok
        except requests.RequestException:
            return False

    def once(self, effect_timeout: float = 20) -> bool:
        """One attempt: True when the whole path worked."""
        created = self._call("POST", "/api/tasks", {"title": "chaos probe", "recurrence": "daily",
                                                     "due_date": iso(now() + timedelta(hours=3)),
                                                     "reminders": ["PT1H"]})
        if created is None:
            return False
        # The reminder's job is scheduled before the completion, so the completion cancels it.
        deadline = time.monotonic() + effect_timeout
        while not psql(f"select 1 from reminders where task_id = '{created['task_id']}' and job_name is not null"):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.3)
        if self._call("POST", f"/api/tasks/{created['task_id']}/complete") is None:
            return False
        while time.monotonic() < deadline:
            try:
                if self._effects(created, []) and self._chat_ready():
                    return True
            except Exception:  # noqa: BLE001 - the database may be the process that is down
                pass
            time.sleep(0.3)
        return False

    def until_recovered(self, since: float, timeout: float) -> float | None:
        """Seconds from `since` until the first fully successful attempt; None on timeout."""
        while time.time() - since < timeout:
            try:
                if self.once():
                    return time.time() - since
            except Exception:  # noqa: BLE001 - e.g. PostgreSQL still starting
                pass
            time.sleep(0.3)
        return None
