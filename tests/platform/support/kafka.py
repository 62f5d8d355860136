"""Kafka's own command-line tools (from the jars setup installs), run against the test broker."""

from __future__ import annotations

import subprocess

from .stack import KAFKA_BROKERS, ROOT, TOOLS


def _java(main: str, *args: str, timeout: float = 120) -> str:
    cmd = [
        "java", "-Xmx256m", f"-Dlog4j2.configurationFile={ROOT}/runtime-config/local/kafka/log4j2-tools.properties",
        "-cp", f"{TOOLS}/kafka/libs/*", main, *args,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{main} failed: {res.stderr[-2000:]}")
    return res.stdout


def create_topic(name: str, partitions: int = 12) -> None:
    _java("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", KAFKA_BROKERS, "--create",
          "--if-not-exists", "--topic", name, "--partitions", str(partitions), "--replication-factor", "1")


def describe_topic(name: str) -> str:
    return _java("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", KAFKA_BROKERS,
                 "--describe", "--topic", name)


def read_topic(name: str, max_messages: int, timeout_ms: int = 15000) -> list[tuple[str, str]]:
    """Reads a topic from the beginning; returns (key, value) pairs."""
    out = _java(
        "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", KAFKA_BROKERS,
        "--topic", name, "--from-beginning", "--max-messages", str(max_messages),
        "--timeout-ms", str(timeout_ms), "--property", "print.key=true",
        "--property", "key.separator=\t", "--group", f"contract-reader-{name}",
        timeout=timeout_ms / 1000 + 60,
    ) if max_messages else ""
    pairs = []
    for line in out.splitlines():
        if "\t" in line:
            key, value = line.split("\t", 1)
            pairs.append((key, value))
    return pairs


def group_offsets(group: str) -> dict[tuple[str, int], int]:
    """Committed offsets of a consumer group: (topic, partition) -> offset."""
    out = _java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server",
                KAFKA_BROKERS, "--describe", "--group", group, "--offsets")
    offsets = {}
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[0] == group and cols[3].isdigit():
            offsets[(cols[1], int(cols[2]))] = int(cols[3])
    return offsets


def group_members(group: str) -> list[tuple[str, int]]:
    """The members of a consumer group: (client host, number of partitions assigned)."""
    out = _java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server",
                KAFKA_BROKERS, "--describe", "--group", group, "--members")
    members = []
    for line in out.splitlines():
        cols = line.split()
        # GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS
        if len(cols) >= 5 and cols[0] == group and cols[4].isdigit():
            members.append((cols[1], int(cols[4])))
    return members
