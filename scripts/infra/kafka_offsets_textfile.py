"""Writes Kafka offsets and consumer-group lag of a local broker as a node_exporter textfile,
under the metric names of kafka_exporter (the exporter the cluster runs), every INTERVAL seconds.

Usage: kafka_offsets_textfile.py <out.prom> <interval s> <java command prefix...> -- <bootstrap>

It calls Kafka's own tools (GetOffsetShell, ConsumerGroupCommand) from the pinned Kafka jars.
"""
import os
import subprocess
import sys
import time


def run(java, *args):
    out = subprocess.run([*java, *args], capture_output=True, text=True, timeout=60)
    return out.stdout.splitlines()


def offsets(java, bootstrap, time_flag):
    """topic:partition:offset lines → {(topic, partition): offset}."""
    result = {}
    for line in run(java, "org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", bootstrap, "--time", time_flag):
        parts = line.rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit() and parts[2].lstrip("-").isdigit():
            result[(parts[0], parts[1])] = int(parts[2])
    return result


def groups(java, bootstrap):
    """(group, topic, partition, current offset, lag) for every committed partition."""
    rows = []
    for line in run(java, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                    "--bootstrap-server", bootstrap, "--describe", "--all-groups"):
        cols = line.split()
        if len(cols) >= 6 and cols[2].isdigit() and cols[3].isdigit() and cols[5].isdigit():
            rows.append((cols[0], cols[1], cols[2], int(cols[3]), int(cols[5])))
    return rows


def snapshot(java, bootstrap):
    lines = []
    for name, flag in (("kafka_topic_partition_current_offset", "-1"), ("kafka_topic_partition_oldest_offset", "-2")):
        lines.append(f"# TYPE {name} gauge")
        for (topic, partition), value in sorted(offsets(java, bootstrap, flag).items()):
            lines.append(f'{name}{{topic="{topic}",partition="{partition}"}} {value}')
    rows = groups(java, bootstrap)
    lines.append("# TYPE kafka_consumergroup_current_offset gauge")
    lines += [f'kafka_consumergroup_current_offset{{consumergroup="{g}",topic="{t}",partition="{p}"}} {cur}' for g, t, p, cur, _ in rows]
    lines.append("# TYPE kafka_consumergroup_lag gauge")
    lines += [f'kafka_consumergroup_lag{{consumergroup="{g}",topic="{t}",partition="{p}"}} {lag}' for g, t, p, _, lag in rows]
    return "\n".join(lines) + "\n"


def main():
    out, interval = sys.argv[1], float(sys.argv[2])
    sep = sys.argv.index("--")
    java, bootstrap = sys.argv[3:sep], sys.argv[sep + 1]
    while True:
        text = snapshot(java, bootstrap)
        with open(out + ".tmp", "w") as f:
            f.write(text)
        os.replace(out + ".tmp", out)
        time.sleep(interval)


if __name__ == "__main__":
    main()
