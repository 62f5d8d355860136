"""Checks that docs/deploy-aks.md provisions Redpanda for what the rendered chart does.

Usage: check_runbook.py <repository root> <rendered chart>...

- the consumer groups the runbook grants ACLs to (`rpk security acl create ... --group "$g"`
  loop) are exactly the app ids that subscribe to a topic (Dapr Subscription scopes: each app id
  is its own consumer group);
- the topics it creates are every topic and dead-letter topic the Subscriptions use;
- the retention it sets is 30 days (FR-037), as retention.ms.
"""
import re
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1])
doc = (root / "docs/deploy-aks.md").read_text()
errors = []
subscribers, topics = set(), set()
for path in sys.argv[2:]:
    for d in yaml.safe_load_all(open(path)):
        if d and d["kind"] == "Subscription" and d["spec"].get("pubsubname") == "pubsub":
            subscribers.update(d.get("scopes") or [])
            topics.add(d["spec"]["topic"])
            if d["spec"].get("deadLetterTopic"):
                topics.add(d["spec"]["deadLetterTopic"])

m = re.search(r"for g in ([a-z -]+); do\s*\n\s*rpk security acl create [^\n]*--group", doc)
groups = set(m.group(1).split()) if m else set()
if groups != subscribers:
    errors.append(f"consumer-group ACLs for {sorted(groups) or 'none'}; the subscribing app ids are {sorted(subscribers)}")
m = re.search(r"for t in ([a-z -]+); do\s*\n\s*rpk security acl create [^\n]*--topic", doc)
acl_topics = set(m.group(1).split()) if m else set()
if not topics <= acl_topics:
    errors.append(f"topics without an ACL in the runbook: {sorted(topics - acl_topics)}")
m = re.search(r"rpk topic create [^`\n]*retention\.ms=(\d+)", doc)
days = int(m.group(1)) / 86_400_000 if m else 0
if days != 30:
    errors.append(f"topic retention in the runbook is {days:g} days, FR-037 asks 30")
for e in errors:
    print(f"FAIL {e}")
print(f"» consumer-group ACLs {sorted(groups)}; {len(acl_topics)} topic ACLs; retention {days:g} days")
sys.exit(1 if errors else 0)
