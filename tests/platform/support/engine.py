"""The recurrence engine's pre-creation jobs, as tests see them through the engine's sidecar."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import requests

from .stack import ENV

ENGINE_DAPR = f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + 1}"
LEAD = timedelta(minutes=15)
# Reminders are planned when their instance exists: a reminder longer than the lead moves the
# pre-creation to its offset plus this margin.
REMINDER_MARGIN = timedelta(minutes=5)
# The engine's default herd window (HERD_WINDOW_SECS).
HERD_WINDOW_SECS = 600


def job_name(series_id: str, occurrence: datetime) -> str:
    return f"precreate-{series_id}-{occurrence.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def herd_offset(series_id: str, window: int = HERD_WINDOW_SECS) -> int:
    """The series' deterministic place in the herd window: its 128 bits modulo the window."""
    return uuid.UUID(series_id).int % window if window else 0


def lead(*reminders: timedelta) -> timedelta:
    """The pre-creation lead of an instance with these reminder offsets: 15 min, or the largest
    offset plus the margin when that is longer."""
    return max([LEAD, *(r + REMINDER_MARGIN for r in reminders)])


def fire_at(series_id: str, occurrence: datetime, lead: timedelta = LEAD) -> datetime:
    """When the pre-creation job of an occurrence is due: its lead (15 min unless reminders ask
    for more) plus the herd offset before it."""
    return occurrence - lead - timedelta(seconds=herd_offset(series_id))


def get_job(name: str) -> dict | None:
    r = requests.get(f"{ENGINE_DAPR}/v1.0-alpha1/jobs/{name}", timeout=10)
    return r.json() if r.status_code == 200 else None


def fast_forward(name: str, data: dict) -> None:
    """Re-posts a job of the engine under the same name, due in one second (the engine's sidecar
    schedules as the engine's app id, so the engine receives the trigger)."""
    r = requests.post(f"{ENGINE_DAPR}/v1.0-alpha1/jobs/{name}", timeout=10,
                      json={"dueTime": "1s", "overwrite": True, "data": data,
                            "failure_policy": {"constant": {"interval": "5s", "max_retries": 3}}})
    assert r.status_code == 204, r.text
