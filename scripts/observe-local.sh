#!/usr/bin/env bash
# Runs a local Prometheus (Debian package) against a running stack and shows that every PromQL
# expression of the alerts and dashboards returns data where its metrics exist outside a cluster:
# scrapes each daprd's metrics port, the Task API's /metrics (outbox gauges), the scheduler,
# node_exporter (disk), and Kafka offsets/lag of the stack's broker (kafka_exporter's metric
# names, from Kafka's own tools); drives traffic
# through the API; then queries each expression (scripts/infra/query_expressions.py).
#   scripts/observe-local.sh [dev|test] [seconds of traffic, default 90]
# The stack must be up (scripts/stack.sh <dev|test> up). Ends with `N passed, M failed, K skipped`.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
stack_env "${1:-test}"
DURATION="${2:-90}"
off=$((PG_PORT - 5532))
PROM_PORT=$((9390 + off))
NODE_PORT=$((9391 + off))
DIR="$STACK_DIR/observe"
PY="$TOOLS/venv/bin/python"
for app in "${APPS[@]}"; do
  port_open "$((DAPR_METRICS_BASE + APP_INDEX[$app]))" || die "daprd $app metrics port is closed: start the stack (scripts/stack.sh $STACK_NAME up)"
done
command -v prometheus >/dev/null && command -v prometheus-node-exporter >/dev/null \
  || die "prometheus / prometheus-node-exporter missing (scripts/setup.sh apt)"
rm -rf "$DIR"; mkdir -p "$DIR/textfile" "$DIR/data"

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

log "Kafka offsets and lag → $DIR/textfile/kafka.prom every 10 s"
"$PY" "$ROOT/scripts/infra/kafka_offsets_textfile.py" "$DIR/textfile/kafka.prom" 10 \
  java -Xmx128m -Djava.awt.headless=true -Dlog4j2.configurationFile="$ROOT/runtime-config/local/kafka/log4j2-tools.properties" \
  -cp "$TOOLS/kafka/libs/*" -- "$KAFKA_BROKERS" >"$DIR/kafka-textfile.log" 2>&1 &
PIDS+=($!)
log "node_exporter on 127.0.0.1:$NODE_PORT"
prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
  --collector.textfile.directory="$DIR/textfile" >"$DIR/node-exporter.log" 2>&1 &
PIDS+=($!)

# Rules: the PrometheusRule's groups, evaluated like in the cluster.
"$PY" -c 'import sys, yaml; print(yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))["spec"]))' \
  "$ROOT/k8s/observability/prometheus-rules.yaml" >"$DIR/rules.yml"
{
  echo "global: {scrape_interval: 5s, evaluation_interval: 5s}"
  echo "rule_files: [$DIR/rules.yml]"
  echo "scrape_configs:"
  echo "  - job_name: daprd"
  echo "    static_configs:"
  for app in "${APPS[@]}"; do
    echo "      - targets: ['127.0.0.1:$((DAPR_METRICS_BASE + APP_INDEX[$app]))']"
    echo "        labels: {app: $app}"
  done
  # The Task API's own gauges (parked and pending outbox rows), as the PodMonitor todo-platform-task-api scrapes them.
  echo "  - job_name: task-api"
  echo "    static_configs: [{targets: ['127.0.0.1:$(app_port task-api)'], labels: {app: task-api}}]"
  echo "  - job_name: dapr-scheduler"
  echo "    static_configs: [{targets: ['127.0.0.1:$SCHEDULER_METRICS_PORT']}]"
  echo "  - job_name: node"
  echo "    static_configs: [{targets: ['127.0.0.1:$NODE_PORT']}]"
} >"$DIR/prometheus.yml"
promtool check config "$DIR/prometheus.yml" >/dev/null || die "generated prometheus.yml is invalid"
log "Prometheus on 127.0.0.1:$PROM_PORT ($DIR/prometheus.yml)"
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$DIR/prometheus.log" 2>&1 &
PIDS+=($!)
wait_for "Prometheus ready" 60 curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready"

log "traffic for ${DURATION}s: recurring tasks created and completed through the API"
api="http://127.0.0.1:$(app_port task-api)"
token="$(bash "$ROOT/scripts/dev-token.sh" observer 3600)"
created=0 completed=0
end=$((SECONDS + DURATION))
while ((SECONDS < end)); do
  due="$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)"
  id="$(curl -fsS -X POST "$api/api/tasks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"title\":\"observe $created\",\"due_date\":\"$due\",\"recurrence\":\"daily\",\"reminders\":[\"PT1H\"]}" \
    | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["task_id"])')" && created=$((created + 1))
  if [ -n "$id" ] && curl -fsS -o /dev/null -X POST "$api/api/tasks/$id/complete" -H "Authorization: Bearer $token"; then
    completed=$((completed + 1))
  fi
  sleep 1
done
ok "created $created tasks, completed $completed"
sleep 15 # one more Kafka snapshot and a few scrapes after the last request

"$PY" "$ROOT/scripts/infra/query_expressions.py" "http://127.0.0.1:$PROM_PORT" \
  "$ROOT/k8s/observability/prometheus-rules.yaml" "$ROOT/k8s/observability/dashboards"
