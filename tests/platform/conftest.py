"""Fixtures for tests against the real local stack that scripts/test.sh starts.

A test app (a plain HTTP server in this process) gets its own real daprd sidecar whose resources
come from tests/platform/resources, so contract tests never disturb the platform's own apps."""

from __future__ import annotations

import uuid

import pytest

from support import kafka
from support.app import DeliveryRecorder
from support.dapr import Sidecar
from support.stack import free_port

CONTRACT_TOPICS = ("contract-events", "contract-dlq", "contract-order", "contract-bulk")


@pytest.fixture(scope="session")
def contract_topics():
    for t in CONTRACT_TOPICS:
        kafka.create_topic(t)
    return CONTRACT_TOPICS


@pytest.fixture(scope="session")
def app():
    a = DeliveryRecorder(free_port()).start()
    a.route("/dapr/subscribe", 200, b"[]")
    a.route("/dapr/config", 200, b"{}")
    yield a
    a.stop()


@pytest.fixture(scope="session")
def sidecar(app, contract_topics):
    s = Sidecar("contract", app.port).start()
    yield s
    s.cleanup()


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:12]
