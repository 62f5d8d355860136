"""A consumer that cannot keep up scales by partitions: a second replica of the notification
consumer (same Dapr app id, its own Spin process and sidecar: `scripts/stack.sh <stack> replica
notification`) joins the Kafka consumer group and takes part of the partitions; events spread
over many users (the partition key) are then handled by both replicas, and
when the replica stops the first one takes all partitions back without losing an event. In AKS
the KEDA ScaledObject of the chart adds replicas the same way on consumer-group lag."""

import re
import time

import requests

from support.kafka import group_members
from support.stack import ENV, stack, wait_until
from support.taskapi import User, psql

GROUP = "notification"
METRICS = [int(ENV["PORT_OFFSET"]) + 9190 + 2, int(ENV["PORT_OFFSET"]) + 9190 + 12]


def ingress(port: int) -> float:
    """Deliveries the sidecar on metrics `port` made to its app (pub/sub ingress, all topics): one
    per single event, one per bulk request (daprd 1.18's bulk counter counts requests, not
    entries; docs/adr/0010-bulk-delivery.md)."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(float(m.group(1)) for m in re.finditer(
        r'^dapr_component_pubsub_ingress_(?:count|bulk_event_count)\{[^}]*\} ([0-9.e+]+)$', text, re.M))


def reminders_scheduled(task_ids: list[str]) -> int:
    ids = "','".join(task_ids)
    return int(psql(f"select count(*) from reminders where task_id in ('{ids}') and scheduled_for is not null")[0][0])


def create_with_reminders(n: int) -> list[str]:
    ids = []
    # A day ahead: inside the 48 h reminder horizon, so each reminder gets its job at once.
    due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    for _ in range(n):
        ids.append(User().create(title="replica", due_date=due, reminders=["PT1H"])["task_id"])
    return ids


def test_two_replicas_share_the_partitions_and_handle_each_event_once():
    try:
        stack("replica", "notification")
        wait_until("two members with partitions", lambda: len([m for m in group_members(GROUP) if m[1] > 0]) == 2,
                   timeout=90)
        members = group_members(GROUP)
        assert sum(p for _, p in members) >= 24, members  # task-operations, task-modifications, alerts
        before = [ingress(p) for p in METRICS]
        ids = create_with_reminders(60)
        wait_until("every reminder scheduled", lambda: reminders_scheduled(ids) == len(ids), timeout=90)
        # Both sidecars delivered part of the run's events to their replica (in bulk requests, so
        # fewer requests than events); every reminder got its one job (above).
        handled = [ingress(p) - b for p, b in zip(METRICS, before)]
        assert all(h > 0 for h in handled), handled
    finally:
        stack("stop", "daprd-notification-2", check=False)
        stack("stop", "reminder-dispatcher-2", check=False)
    wait_until("one member holds every partition", lambda: len([m for m in group_members(GROUP) if m[1] > 0]) == 1,
               timeout=90)
    ids = create_with_reminders(20)
    wait_until("every reminder scheduled by the one replica", lambda: reminders_scheduled(ids) == len(ids), timeout=90)
