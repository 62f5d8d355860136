#!/usr/bin/env bash
# Posts one message to the Slack incoming webhook in SLACK_WEBHOOK_URL (the deploy workflow, when a
# deployment or its post-deploy tests failed). Without a webhook it only warns.
#   scripts/ci/notify-slack.sh "<message>"
set -euo pipefail
if [ -z "${SLACK_WEBHOOK_URL:-}" ]; then
  echo "::warning::SLACK_WEBHOOK_URL is not set: no Slack notification ($1)"
  exit 0
fi
payload="$(python3 -c 'import json, sys; print(json.dumps({"text": sys.argv[1]}))' "$1")"
curl -fsS --retry 3 -X POST -H 'content-type: application/json' --data "$payload" "$SLACK_WEBHOOK_URL" >/dev/null
echo "notified Slack: $1"
