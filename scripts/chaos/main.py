"""The chaos run of scripts/chaos.sh: load, faults one after another with their recovery times, a
poison event through the dead-letter topic and back, secret rotation under load, then accounting
by event id. Ends with `operations=<n> lost=<n> duplicates=<n> max_recovery_s=<s>`."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from account import PushInbox, Tally, account, quiesce  # noqa: E402
from dlq import poison_and_replay  # noqa: E402
from load import Load, Signer  # noqa: E402
from probe import Probe  # noqa: E402
from rotate import Rotation  # noqa: E402
from stackctl import APPS, alive, kill9, say, start, wait_all_healthy  # noqa: E402

QUICK = os.environ.get("CHAOS_MODE") == "quick"
# Every process the brief names, one after another: broker, sidecars, runtimes, database, scheduler.
# CHAOS_FAULTS narrows the list (space-separated process names), e.g. while developing.
# Quick mode: one sidecar and one runtime on the write path and on the reminder path, the database,
# the broker (last: it recovers slowest).
FAULTS = os.environ.get("CHAOS_FAULTS", "").split() or (
    ["daprd-task-api", "daprd-notification", "task-api", "reminder-dispatcher", "postgres", "kafka"] if QUICK else
    ["kafka", *[f"daprd-{a}" for a in APPS], *[c for c, _ in APPS.values()], "postgres", "scheduler"])
SETTLE_S = 2 if QUICK else 10          # steady load between two faults
WORKERS, PAUSE_S = (3, 0.2) if QUICK else (4, 0.1)
HOLD_ROTATED_S = 5 if QUICK else 30    # load on the rotated credentials
RECOVERY_TIMEOUT_S = 300  # Kafka replays its log after kill -9: minutes on a loaded 2-core machine


def fault(proc: str, probe: Probe) -> tuple[float | None, str]:
    t0 = time.time()
    pid = kill9(proc)
    errors: list[str] = []
    restart = threading.Thread(target=lambda: _restart(proc, errors))
    restart.start()
    rec = probe.until_recovered(t0, RECOVERY_TIMEOUT_S)
    restart.join()
    if errors:
        return None, errors[0]
    wait_all_healthy(120)
    return rec, f"pid {pid}"


def _restart(proc: str, errors: list[str]) -> None:
    try:
        start(proc)
    except Exception as e:  # noqa: BLE001 - reported as a failed recovery
        # scripts/stack.sh gives up waiting after a while (Kafka: 90 s); a process that is still
        # starting is left to the probe, which decides when the path works again.
        if not alive(proc):
            errors.append(str(e))


def main() -> int:
    started = time.time()
    run = time.strftime("%H%M%S") + os.urandom(2).hex()
    users_like = f"chaos-{run}-%"
    say(f"chaos run {run} ({'quick' if QUICK else 'full'}): {WORKERS} load users, {len(FAULTS)} faults")
    signer = Signer()
    inbox = PushInbox()
    probe = Probe(run, signer)
    if not probe.once():
        raise SystemExit("the end-to-end probe fails on the healthy stack; not injecting faults")
    load = Load(run, signer, WORKERS, PAUSE_S).start()
    time.sleep(SETTLE_S)
    recoveries: dict[str, float | None] = {}
    for proc in FAULTS:
        before = len(load.record.failures)
        rec, note = fault(proc, probe)
        recoveries[proc] = rec
        failed = len(load.record.failures) - before
        shown = f"{rec:.1f}s" if rec is not None else f"NOT RECOVERED ({note})"
        say(f"fault kill -9 {proc:<24} recovered in {shown}  (load requests failed meanwhile: {failed})")
        time.sleep(SETTLE_S)
    last_reminder_due = load.stop_reminders()

    say("poison event -> dead-letter topic -> replay after the fix")
    dlq_ok, dlq_note = poison_and_replay(run, signer)
    say(f"dead-letter scenario: {'ok' if dlq_ok else 'FAILED'}: {dlq_note}")

    say("secret rotation under load: JWT secret and database password")
    rot = Rotation(signer)
    rot.enforce_passwords()
    w0, before = time.time(), len(load.record.failures)
    ops_before = len(load.record.committed)
    try:
        rot.rotate()
        time.sleep(HOLD_ROTATED_S)
        rot.restore()
    except Exception:
        rot.emergency_restore()
        raise
    time.sleep(2)
    rotation_failures = load.record.failures[before:]
    rotation_ops = len(load.record.committed) - ops_before
    say(f"rotation: {rotation_ops} operations committed during {time.time() - w0:.1f}s of rotation, "
        f"failed requests: {len(rotation_failures)}")
    for f in rotation_failures[:5]:
        say(f"  failed during rotation: {f.kind} {f.status} {f.detail}")

    time.sleep(SETTLE_S)
    load.stop()
    committed = load.record.committed
    by_kind = Counter(op.kind for op in committed)
    say(f"load stopped: {len(committed)} committed operations {dict(by_kind)}, "
        f"{len(load.record.failures)} failed requests (during faults)")
    wait = last_reminder_due + 10 - time.time()
    if wait > 0:
        say(f"waiting {wait:.0f}s for the last reminders to fall due")
        time.sleep(wait)
    quiesce(users_like, 120)
    tally = Tally()
    account(committed, users_like, load.users, inbox, tally)
    inbox.close()
    for n in tally.notes:
        say(f"  {n}")
    lost = sum(tally.lost.values())
    dups = sum(tally.duplicates.values())
    not_recovered = [p for p, r in recoveries.items() if r is None]
    say("recovery per fault: " + ", ".join(f"{p}={r:.1f}s" if r is not None else f"{p}=none"
                                           for p, r in recoveries.items()))
    healthy_after = True
    try:
        wait_all_healthy(120)
    except RuntimeError as e:
        healthy_after = False
        say(f"FAILED: the stack is not healthy after the run: {e}")
    say(f"duration {time.time() - started:.0f}s; load average {os.getloadavg()[0]:.1f}")
    ok = lost == 0 and dups == 0 and not not_recovered and dlq_ok and not rotation_failures and healthy_after
    if not ok:
        say(f"FAILED: lost={lost} duplicates={dups} not_recovered={not_recovered} dlq={dlq_ok} "
            f"rotation_failures={len(rotation_failures)}")
    max_rec = max((r for r in recoveries.values() if r is not None), default=0.0)
    checks = len(FAULTS) + 5  # each fault, dead-letter, rotation, nothing lost, nothing duplicated, healthy
    failed_checks = (len(not_recovered) + (not dlq_ok) + bool(rotation_failures) + bool(lost) + bool(dups)
                     + (not healthy_after))
    print(f"{checks - failed_checks} passed, {failed_checks} failed")
    print(f"operations={len(committed)} lost={lost} duplicates={dups} max_recovery_s={max_rec:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
