#!/usr/bin/env bash
# Starts, checks and stops one stack of the local platform: PostgreSQL, Kafka (KRaft), the Dapr
# scheduler, one daprd per app id and one `spin up` per component (RUNTIME=wasmtime: `wasmtime serve`), each a background process
# with a pid file and a log. Two stacks never share ports or data: `dev` (scripts/dev-up.sh) and
# `test` (scripts/test.sh, ports +10000).
# Source after common.sh, then call `stack_env dev|test|cluster`. Stack `cluster` holds only the
# services the local Kubernetes cluster's pods use from the host (stack_infra_up: PostgreSQL, Kafka,
# Mailpit, Mosquitto, Centrifugo), each also listening on the node's address (POD_LISTEN).

# App ids, the component each hosts, and the offset of its ports.
APPS=(task-api recurrence-engine notification chat dashboard)
declare -A APP_COMPONENT=([task-api]=task-api [recurrence-engine]=recurrence-engine [notification]=reminder-dispatcher [chat]=chat [dashboard]=dashboard)
declare -A APP_INDEX=([task-api]=0 [recurrence-engine]=1 [notification]=2 [chat]=3 [dashboard]=4)
# Apps whose own port is not 8000 + index (plus the stack's offset): the dashboard is on 3000.
declare -A APP_PORT_OVERRIDE=([dashboard]=3000)
# Each app's route base, read from its component's ROUTE_PREFIX in spin.toml (the Task API owns
# `/`): Spin routes only the manifest's routes, so probes and subscriptions use the base, as in the chart.
# Read by stack_env, not when this file is sourced: on a fresh machine python3 arrives with setup.
declare -A APP_ROUTE_PREFIX=()
read_route_prefixes() {
  local comp prefix app
  command -v python3 >/dev/null || die "python3 is needed to read spin.toml (run scripts/setup.sh apt)"
  while read -r comp prefix; do
    for app in "${APPS[@]}"; do [ "${APP_COMPONENT[$app]}" = "$comp" ] && APP_ROUTE_PREFIX[$app]="$prefix"; done
  done < <(python3 -c 'import sys, tomllib
for name, c in tomllib.load(open(sys.argv[1], "rb"))["component"].items():
    print(name, c.get("environment", {}).get("ROUTE_PREFIX", ""))' "$ROOT/spin.toml")
}
TOPICS=(task-operations task-modifications alerts task-events-dlq updates-dlq alerts-dlq)
TOPIC_PARTITIONS=12
TOPIC_RETENTION_MS=604800000 # 7 days

# Sets every path and port of a stack.
stack_env() {
  STACK_NAME="$1"
  read_route_prefixes
  local off=0
  case "$STACK_NAME" in
    dev) STACK_DIR="${STACK_DIR:-$ROOT/.data}" ;;
    # TEST_PORT_OFFSET lets a second checkout run its tests beside a running test stack (e.g. 11000).
    test) STACK_DIR="${STACK_DIR:-$ROOT/.test-data}"; off="${TEST_PORT_OFFSET:-10000}" ;;
    cluster) STACK_DIR="${STACK_DIR:-$ROOT/.cluster-data}"; off=13000 ;;
    *) die "unknown stack '$STACK_NAME' (dev|test|cluster)" ;;
  esac
  # The address the cluster's pods reach the host on (stack `cluster` only; empty: loopback only).
  POD_LISTEN=""
  if [ "$STACK_NAME" = cluster ]; then
    POD_LISTEN="$(node_ip)"
    [ -n "$POD_LISTEN" ] || die "no node address (ip -4 route get 1.1.1.1 names no source address)"
  fi
  LOG_DIR="$STACK_DIR/logs"
  RUN_DIR="$STACK_DIR/run"
  # Every port stays below Linux's ephemeral range (32768-60999) for offsets up to 15000, so an
  # outgoing connection's source port can never take one before its server binds it.
  PG_PORT=$((5532 + off))
  KAFKA_PORT=$((9092 + off))
  KAFKA_CONTROLLER_PORT=$((9093 + off))
  # The SASL/SCRAM listener on POD_LISTEN (stack `cluster`), user KAFKA_SASL_USER.
  KAFKA_POD_PORT=$((9094 + off))
  KAFKA_SASL_USER=todo-cluster
  SCHEDULER_PORT=$((3560 + off))
  SCHEDULER_HEALTH_PORT=$((8090 + off))
  SCHEDULER_METRICS_PORT=$((9290 + off))
  SCHEDULER_ETCD_PORT=$((2379 + off))
  PORT_OFFSET=$off
  APP_PORT_BASE=$((8000 + off))
  DAPR_HTTP_BASE=$((3500 + off))
  DAPR_GRPC_BASE=$((3520 + off))
  DAPR_INTERNAL_BASE=$((3540 + off))
  DAPR_METRICS_BASE=$((9190 + off))
  KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
  # Reminder delivery sinks: Mailpit (SMTP + HTTP API) and Mosquitto (MQTT push).
  SMTP_PORT=$((1025 + off))
  MAILPIT_HTTP_PORT=$((8025 + off))
  MQTT_PORT=$((1883 + off))
  # The local OCI registry (SPIN_APP_FROM=registry, `scripts/stack.sh <stack> push`).
  REGISTRY_PORT=$((5050 + off))
  # Live sync (Centrifugo): WebSocket connections of the dashboards, its HTTP API for the binding.
  CENTRIFUGO_PORT=$((8700 + off))
  # shellcheck source=/dev/null
  source "$ROOT/runtime-config/local/database.env"
  PG_DSN="postgresql://$TODO_DB_USER:$TODO_DB_PASSWORD@127.0.0.1:$PG_PORT/$TODO_DB_NAME"
  export STACK_NAME STACK_DIR LOG_DIR RUN_DIR PG_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_BROKERS \
    SCHEDULER_PORT SCHEDULER_HEALTH_PORT SCHEDULER_ETCD_PORT PG_DSN APP_PORT_BASE DAPR_HTTP_BASE PORT_OFFSET \
    SMTP_PORT MAILPIT_HTTP_PORT MQTT_PORT REGISTRY_PORT CENTRIFUGO_PORT POD_LISTEN KAFKA_POD_PORT KAFKA_SASL_USER
}

# An app's second replica (`scripts/stack.sh <stack> replica <app>`) has the same app id and its
# own ports, 10 above the first one's; `app_port app 2` names them.
replica_shift() { if [ "${1:-1}" = 2 ]; then echo 10; else echo 0; fi; }
replica_suffix() { if [ "${1:-1}" = 2 ]; then echo -2; fi; }
app_port() {
  local shift; shift="$(replica_shift "${2:-1}")"
  if [ -n "${APP_PORT_OVERRIDE[$1]:-}" ]; then echo $((APP_PORT_OVERRIDE[$1] + PORT_OFFSET + shift)); else echo $((APP_PORT_BASE + APP_INDEX[$1] + shift)); fi
}
# The app's base URL: its port and its route base.
app_url() { echo "http://127.0.0.1:$(app_port "$1" "${2:-1}")${APP_ROUTE_PREFIX[$1]}"; }
dapr_http_port()  { echo $((DAPR_HTTP_BASE + APP_INDEX[$1] + $(replica_shift "${2:-1}"))); }
dapr_grpc_port()  { echo $((DAPR_GRPC_BASE + APP_INDEX[$1] + $(replica_shift "${2:-1}"))); }

# ---- process bookkeeping ---------------------------------------------------------------------

pidfile() { echo "$RUN_DIR/$1.pid"; }
proc_pid() { cat "$(pidfile "$1")" 2>/dev/null || true; }
# Running means alive and not a zombie (exited, not yet reaped by its new parent).
pid_running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]; }
proc_alive() { local p; p="$(proc_pid "$1")"; [ -n "$p" ] && pid_running "$p"; }

# Starts a command in its own session with output to $LOG_DIR/<name>.log and records its pid.
spawn() {
  local name="$1"; shift
  if proc_alive "$name"; then ok "$name already running (pid $(proc_pid "$name"))"; return; fi
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$(pidfile "$name")"
  log "started $name (pid $!, log ${LOG_DIR#"$ROOT"/}/$name.log)"
}

# Sends SIGTERM, waits up to N seconds, then SIGKILL.
stop_proc() {
  local name="$1" grace="${2:-20}" pid
  pid="$(proc_pid "$name")"
  if [ -z "$pid" ] || ! pid_running "$pid"; then rm -f "$(pidfile "$name")"; return; fi
  # The whole process group: each process leads its own session (spawn), and `spin up` serves
  # from a child process that would otherwise outlive it.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local start=$SECONDS
  while pid_running "$pid"; do
    if (( SECONDS - start >= grace )); then
      warn "$name did not stop in ${grace}s; killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$(pidfile "$name")"
  log "stopped $name"
}

# ---- resources -------------------------------------------------------------------------------

# Renders runtime-config/local into one resources dir per app id (a component name may appear
# once per daprd, so each app gets the shared resources plus its own pubsub-<app>.yaml).
render_resources() {
  local vars='${KAFKA_BROKERS} ${PG_PORT} ${STACK_DIR} ${STACK_NAME} ${SMTP_PORT} ${MQTT_PORT} ${APP_API_TOKEN} ${MQTT_PUBLISHER_PASSWORD} ${MQTT_ISSUER_PASSWORD} ${CENTRIFUGO_PORT} ${LIVE_SYNC_API_KEY}' app f
  mkdir -p "$STACK_DIR/secrets"
  APP_API_TOKEN="$(app_api_token)" MQTT_PUBLISHER_PASSWORD="$(mqtt_password reminder-publisher)" \
    MQTT_ISSUER_PASSWORD="$(mqtt_password push-issuer)" LIVE_SYNC_API_KEY="$(live_sync_api_key)" \
    envsubst "$vars" <"$ROOT/runtime-config/local/secrets.json" >"$STACK_DIR/secrets/secrets.json"
  chmod 600 "$STACK_DIR/secrets/secrets.json"
  envsubst "$vars" <"$ROOT/runtime-config/local/daprd/config.yaml" >"$STACK_DIR/daprd-config.yaml"
  for app in "${APPS[@]}"; do
    local out="$STACK_DIR/resources/$app"
    mkdir -p "$out"
    rm -f "$out"/*.yaml
    for f in "$ROOT"/runtime-config/local/*.yaml; do
      case "$(basename "$f")" in pubsub-*.yaml) [ "$(basename "$f")" = "pubsub-$app.yaml" ] || continue ;; esac
      envsubst "$vars" <"$f" >"$out/$(basename "$f")"
    done
  done
  mkdir -p "$STACK_DIR/kafka-config"
  envsubst '${KAFKA_PORT} ${KAFKA_CONTROLLER_PORT} ${STACK_DIR}' \
    <"$ROOT/runtime-config/local/kafka/server.properties" >"$STACK_DIR/kafka-config/server.properties"
  if [ -n "$POD_LISTEN" ]; then
    POD_LISTEN="$POD_LISTEN" KAFKA_POD_PORT="$KAFKA_POD_PORT" \
      envsubst '${KAFKA_PORT} ${KAFKA_CONTROLLER_PORT} ${POD_LISTEN} ${KAFKA_POD_PORT}' \
      <"$ROOT/runtime-config/local/kafka/pod-listener.properties" >>"$STACK_DIR/kafka-config/server.properties"
  fi
  cp "$ROOT/runtime-config/local/kafka/log4j2.properties" "$STACK_DIR/kafka-config/"
}

# ---- PostgreSQL ------------------------------------------------------------------------------

PG_BIN="/usr/lib/postgresql/15/bin"
# PostgreSQL refuses to run as root: run it as the `postgres` system user then.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# True while the postmaster named in the data dir's postmaster.pid has exited but was not reaped.
postmaster_dying() {
  local pid state
  pid="$(head -1 "$1/postmaster.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [ "$state" = Z ] || [ "$state" = X ]
}

start_postgres() {
  local data="$STACK_DIR/postgres"
  mkdir -p "$data" "$RUN_DIR/pg-socket" "$LOG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    # The postgres user must be able to reach the data dir (a checkout under /root is not).
    runuser -u postgres -- test -x "$STACK_DIR" \
      || die "PostgreSQL runs as the postgres user when started as root, and it cannot reach $STACK_DIR (a parent directory is not searchable by others, e.g. /root): put the checkout elsewhere (e.g. /srv) or set STACK_DIR"
    chown postgres "$data" "$RUN_DIR/pg-socket"; chmod 700 "$data"
    touch "$LOG_DIR/postgres.log"; chown postgres "$LOG_DIR/postgres.log"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL data dir ${data#"$ROOT"/}"
    run_logged "$LOG_DIR/postgres-initdb.log" as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8
  fi
  local listen=127.0.0.1
  if [ -n "$POD_LISTEN" ]; then
    # Pods (10.244.0.0/16) log in with a password; loopback stays trusted.
    listen="127.0.0.1,$POD_LISTEN"
    grep -q '^host all all 10.244.0.0/16 scram-sha-256' "$data/pg_hba.conf" \
      || echo 'host all all 10.244.0.0/16 scram-sha-256' | as_pg tee -a "$data/pg_hba.conf" >/dev/null
  fi
  # A postmaster killed a moment ago stays a zombie until it is reaped, and pg_ctl counts it as
  # running: wait (up to 10 s) until it is gone before deciding.
  local waited=0
  while postmaster_dying "$data" && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    ok "postgres already running"
  else
    # After a kill -9 of the postmaster its backends linger until they notice; the new server
    # refuses to start while they still hold the old shared memory, so try again for 30 s.
    local attempt=1
    until as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$LOG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $RUN_DIR/pg-socket -c listen_addresses=$listen -c max_connections=200" start >/dev/null; do
      if [ "$attempt" -lt 30 ] && tail -n 5 "$LOG_DIR/postgres.log" | grep -q "shared memory block is still in use"; then
        log "postgres: the previous server's processes still hold its shared memory; retrying ($attempt)"
        attempt=$((attempt + 1)); sleep 1; continue
      fi
      tail -n 5 "$LOG_DIR/postgres.log" >&2; die "PostgreSQL did not start (is port $PG_PORT taken?)"
    done
  fi
  head -1 "$data/postmaster.pid" >"$(pidfile postgres)"
  log "postgres on 127.0.0.1:$PG_PORT (pid $(proc_pid postgres))"
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  wait_for "postgres" 30 "${psql[@]}" -c "select 1"
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='$TODO_DB_USER'")" != "1" ]; then
    "${psql[@]}" -c "create role $TODO_DB_USER login password '$TODO_DB_PASSWORD'"
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='$TODO_DB_NAME'")" != "1" ]; then
    "${psql[@]}" -c "create database $TODO_DB_NAME owner $TODO_DB_USER"
  fi
  apply_migrations
}

# Applies migrations/*.sql in order, each once, recorded in schema_migrations.
apply_migrations() {
  local psql=(psql "$PG_DSN" -v ON_ERROR_STOP=1 -qAt)
  "${psql[@]}" -c "create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())"
  local f v n=0
  for f in "$ROOT"/migrations/*.sql; do
    [ -e "$f" ] || continue
    v="$(basename "$f" .sql)"
    if [ -z "$("${psql[@]}" -c "select 1 from schema_migrations where version = '$v'")" ]; then
      log "applying migration $v"
      "${psql[@]}" -1 -f "$f" -c "insert into schema_migrations(version) values ('$v')" >/dev/null
      n=$((n + 1))
    fi
  done
  ok "migrations up to date ($n applied now)"
}

stop_postgres() {
  local data="$STACK_DIR/postgres"
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    log "stopped postgres"
  fi
  rm -f "$(pidfile postgres)"
}

# ---- Kafka -----------------------------------------------------------------------------------

# Runs a Kafka tool class (storage format, topics) with quiet logging.
kafka_java() {
  java -Xmx256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/runtime-config/local/kafka/log4j2-tools.properties" \
    -cp "$TOOLS/kafka/libs/*" "$@"
}

start_kafka() {
  [ -d "$TOOLS/kafka/libs" ] || bash "$ROOT/scripts/setup.sh" kafka
  local cfg="$STACK_DIR/kafka-config/server.properties"
  if [ ! -f "$STACK_DIR/kafka/meta.properties" ]; then
    log "formatting Kafka KRaft storage"
    local cluster_id
    cluster_id="$(kafka_java org.apache.kafka.tools.StorageTool random-uuid 2>/dev/null || kafka_java kafka.tools.StorageTool random-uuid)"
    run_logged "$LOG_DIR/kafka-format.log" kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$cfg"
  fi
  spawn kafka java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STACK_DIR/kafka-config/log4j2.properties" \
    -cp "$TOOLS/kafka/libs/*" kafka.Kafka "$cfg"
  # After an unclean stop Kafka recovers its log before it listens: minutes on a loaded machine.
  wait_for "kafka on :$KAFKA_PORT" "${KAFKA_START_TIMEOUT:-240}" port_open "$KAFKA_PORT"
  ensure_topics
  [ -z "$POD_LISTEN" ] || kafka_sasl_user
}

# The SCRAM-SHA-256 credential of the pod listener's user (the stack's secret; set at every start).
kafka_sasl_user() {
  run_logged "$LOG_DIR/kafka-configs.log" kafka_java kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_BROKERS" \
    --alter --entity-type users --entity-name "$KAFKA_SASL_USER" \
    --add-config "SCRAM-SHA-256=[iterations=8192,password=$(stack_secret kafka-sasl-password 24)]"
  ok "Kafka SASL/SCRAM user $KAFKA_SASL_USER on $POD_LISTEN:$KAFKA_POD_PORT"
}

kafka_topics() { kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" "$@"; }

ensure_topics() {
  local existing t
  existing="$(kafka_topics --list 2>/dev/null)"
  for t in "${TOPICS[@]}"; do
    if ! grep -qx "$t" <<<"$existing"; then
      log "creating topic $t ($TOPIC_PARTITIONS partitions, 7-day retention)"
      run_logged "$LOG_DIR/kafka-topics.log" kafka_topics --create --if-not-exists --topic "$t" \
        --partitions "$TOPIC_PARTITIONS" --replication-factor 1 --config "retention.ms=$TOPIC_RETENTION_MS"
    fi
  done
  ok "Kafka topics: ${TOPICS[*]}"
}

# ---- reminder delivery sinks ------------------------------------------------------------------

# Mailpit: the SMTP server the `email` binding sends to; tests read mail over its HTTP API.
start_mailpit() {
  [ -x "$TOOLS/bin/mailpit" ] || bash "$ROOT/scripts/setup.sh" mail
  mkdir -p "$STACK_DIR/mailpit"
  spawn mailpit "$TOOLS/bin/mailpit" \
    --smtp "${POD_LISTEN:-127.0.0.1}:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --database "$STACK_DIR/mailpit/mailpit.db" --max 50000 \
    --smtp-disable-rdns --disable-version-check
  wait_for "mailpit on :$SMTP_PORT" 30 port_open "$SMTP_PORT" "${POD_LISTEN:-127.0.0.1}"
}

# Mosquitto: the MQTT broker the `push` binding publishes to; tests subscribe to it.
MOSQUITTO_DYNSEC=/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so

# The broker refuses anonymous clients; accounts and ACLs live in Mosquitto's dynamic-security
# plugin (changed at run time through $CONTROL/dynamic-security/v1, saved in the stack dir, so a
# restarted broker keeps the credentials it issued). Service accounts, each with one role:
#   reminder-publisher  publish todo/reminders/#            (the notification app's push binding)
#   push-issuer         publish $CONTROL/dynamic-security/# (the Task API issuing user credentials)
#   push-observer       subscribe todo/reminders/#          (benchmarks and fault drills only)
# Each user gets a client and a role of its own from POST /api/users/me/push-credentials:
# subscribeLiteral on the user's topic only (docs/notifications.md).
start_mosquitto() {
  [ -x /usr/sbin/mosquitto ] || bash "$ROOT/scripts/setup.sh" apt
  [ -f "$MOSQUITTO_DYNSEC" ] || die "$MOSQUITTO_DYNSEC missing (Debian mosquitto 2.x ships it)"
  local dir="$STACK_DIR/mosquitto"
  mkdir -p "$dir"
  if [ ! -s "$dir/dynamic-security.json" ]; then
    mosquitto_ctrl dynsec init "$dir/dynamic-security.json" admin "$(mqtt_password admin)" >/dev/null
  fi
  printf 'listener %s 127.0.0.1\nallow_anonymous false\npersistence false\nlog_dest stdout\nuser %s\nplugin %s\nplugin_opt_config_file %s\n' \
    "$MQTT_PORT" "$(id -un)" "$MOSQUITTO_DYNSEC" "$dir/dynamic-security.json" >"$dir/mosquitto.conf"
  [ -z "$POD_LISTEN" ] || printf 'listener %s %s\n' "$MQTT_PORT" "$POD_LISTEN" >>"$dir/mosquitto.conf"
  chmod 644 "$dir/mosquitto.conf"
  spawn mosquitto /usr/sbin/mosquitto -c "$dir/mosquitto.conf"
  wait_for "mosquitto on :$MQTT_PORT" 30 port_open "$MQTT_PORT"
  provision_mosquitto
}

# One dynamic-security command as the broker's admin (quiet; the exit status tells).
mqtt_ctrl() {
  mosquitto_ctrl -h 127.0.0.1 -p "$MQTT_PORT" -u admin -P "$(mqtt_password admin)" dynsec "$@" >/dev/null 2>&1
}

# Creates the service accounts of start_mosquitto (an existing role or client is kept) and sets
# their passwords to the stack's (idempotent, run at every start).
provision_mosquitto() {
  local name acl topic
  for name in reminder-publisher push-issuer push-observer; do
    case "$name" in
      reminder-publisher) acl=publishClientSend topic='todo/reminders/#' ;;
      push-issuer) acl=publishClientSend topic='$CONTROL/dynamic-security/#' ;;
      push-observer) acl=subscribePattern topic='todo/reminders/#' ;;
    esac
    mqtt_ctrl createRole "$name" || true
    mqtt_ctrl addRoleACL "$name" "$acl" "$topic" allow || true
    mqtt_ctrl createClient "$name" -p "$(mqtt_password "$name")" || true
    mqtt_ctrl setClientPassword "$name" "$(mqtt_password "$name")" \
      || die "mosquitto: cannot set the password of $name"
    mqtt_ctrl addClientRole "$name" "$name" || true
  done
}

# ---- live sync -------------------------------------------------------------------------------

# The key of Centrifugo's HTTP API, held by the dashboard's `live-sync` binding only.
live_sync_api_key() { stack_secret live-sync-api-key 24; }

# Centrifugo's configuration from the stack's secrets: connection tokens are the platform's own
# JWTs (same secret, previous secret during a rotation, issuer, audience); a dashboard may
# subscribe only to its own user's channel `changes:<US><user id>` (user-limited channel; its
# boundary and the separator of several users are control characters, which no user id has, so no
# id can name another user's channel), with history for recovery after a reconnect. Clients
# cannot publish.
render_centrifugo_config() {
  local secrets="$STACK_DIR/secrets/secrets.json"
  CENTRIFUGO_PORT="$CENTRIFUGO_PORT" DASHBOARD_PORT="$(app_port dashboard)" API_KEY="$(live_sync_api_key)" \
    "$TOOLS/venv/bin/python" - "$secrets" >"$STACK_DIR/centrifugo/config.json" <<'PY'
import json, os, sys
secrets = json.load(open(sys.argv[1]))
origin_port = os.environ["DASHBOARD_PORT"]
config = {
    # Stack `cluster`: every address (pods reach the API on the node's, pages on localhost).
    "http_server": {"address": "" if os.environ.get("POD_LISTEN") else "127.0.0.1", "port": int(os.environ["CENTRIFUGO_PORT"])},
    "log": {"level": "info"},
    "health": {"enabled": True},
    "prometheus": {"enabled": True},
    "http_api": {"key": os.environ["API_KEY"]},
    "client": {
        "token": {
            "hmac_secret_key": secrets["jwt-secret"],
            "hmac_previous_secret_key": secrets.get("jwt-secret-previous", ""),
            "issuer": os.environ.get("JWT_ISSUER") or "todo-platform",
            "audience": os.environ.get("JWT_AUDIENCE") or "todo-api",
        },
        "allowed_origins": [f"http://{host}:{origin_port}" for host in ("127.0.0.1", "localhost", os.environ.get("POD_LISTEN")) if host],
    },
    "channel": {
        "user_boundary": "\u001f",
        # Empty means Centrifugo's default ",": a control character no user id holds instead.
        "user_separator": "\u001e",
        "max_length": 512,
        "namespaces": [{
            "name": "changes",
            "allow_user_limited_channels": True,
            "history_size": 300,
            "history_ttl": "600s",
            "force_positioning": True,
            "force_recovery": True,
        }],
    },
}
json.dump(config, sys.stdout, indent=2)
PY
  chmod 600 "$STACK_DIR/centrifugo/config.json"
}

start_centrifugo() {
  [ -x "$TOOLS/bin/centrifugo" ] || bash "$ROOT/scripts/setup.sh" sync
  mkdir -p "$STACK_DIR/centrifugo"
  render_centrifugo_config
  # Every page is a file descriptor: the server gets the whole hard limit (a soft 1024 would cap
  # it near a thousand pages).
  (ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
   spawn centrifugo "$TOOLS/bin/centrifugo" --config "$STACK_DIR/centrifugo/config.json")
  wait_for "centrifugo on :$CENTRIFUGO_PORT" 30 curl -fsS "http://127.0.0.1:$CENTRIFUGO_PORT/health"
}

# ---- Dapr ------------------------------------------------------------------------------------

start_scheduler() {
  [ -x "$TOOLS/bin/scheduler" ] || bash "$ROOT/scripts/setup.sh" dapr
  mkdir -p "$STACK_DIR/scheduler"
  spawn scheduler "$TOOLS/bin/scheduler" \
    --listen-address 127.0.0.1 --port "$SCHEDULER_PORT" \
    --healthz-port "$SCHEDULER_HEALTH_PORT" --healthz-listen-address 127.0.0.1 \
    --metrics-port "$SCHEDULER_METRICS_PORT" --metrics-listen-address 127.0.0.1 \
    --etcd-data-dir "$STACK_DIR/scheduler" --etcd-client-port "$SCHEDULER_ETCD_PORT" \
    --etcd-client-listen-address 127.0.0.1 \
    --etcd-initial-cluster "dapr-scheduler-server-0=http://127.0.0.1:$((SCHEDULER_ETCD_PORT + 1))" \
    --override-broadcast-host-port "127.0.0.1:$SCHEDULER_PORT" \
    --id dapr-scheduler-server-0 --mode standalone --log-level info
  wait_for "scheduler health" 60 curl -fsS "http://127.0.0.1:$SCHEDULER_HEALTH_PORT/healthz"
}

# A random hex secret of this stack: $2 random bytes, made once per stack dir and kept (mode 600)
# in $STACK_DIR/secrets/$1, so restarts keep it.
stack_secret() {
  local f="$STACK_DIR/secrets/$1"
  if [ ! -s "$f" ]; then
    mkdir -p "$(dirname "$f")"
    (umask 077; head -c "$2" /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f")
  fi
  cat "$f"
}

# The stack's app API token: each daprd sends it to its app in the dapr-api-token header, and the
# components compare it with the app-api-token secret.
app_api_token() { stack_secret app-api-token 32; }

# A per-stack MQTT password: admin (the dynamic-security plugin's), reminder-publisher,
# push-issuer, push-observer.
mqtt_password() { stack_secret "mqtt-$1" 24; }

# Starts the sidecar of one app id.
start_daprd() {
  local app="$1" r="${2:-1}"
  local i=$((APP_INDEX[$1] + $(replica_shift "$r")))
  # DAPR_HOST_IP: the address registered for service invocation (loopback only).
  spawn "daprd-$app$(replica_suffix "$r")" env DAPR_HOST_IP=127.0.0.1 APP_API_TOKEN="$(app_api_token)" "$TOOLS/bin/daprd" \
    --config "$STACK_DIR/daprd-config.yaml" \
    --app-id "$app" --app-port "$(app_port "$app" "$r")" --app-protocol http --app-channel-address 127.0.0.1 \
    --dapr-listen-addresses 127.0.0.1 \
    --dapr-http-port "$(dapr_http_port "$app" "$r")" --dapr-grpc-port "$(dapr_grpc_port "$app" "$r")" \
    --dapr-internal-grpc-port $((DAPR_INTERNAL_BASE + i)) \
    --metrics-port $((DAPR_METRICS_BASE + i)) --metrics-listen-address 127.0.0.1 \
    --resources-path "$STACK_DIR/resources/$app" \
    --scheduler-host-address "127.0.0.1:$SCHEDULER_PORT" \
    --placement-host-address "" \
    --log-level "${DAPRD_LOG_LEVEL:-info}" ${DAPRD_EXTRA_ARGS:-}
}

# ---- components ------------------------------------------------------------------------------

# KEY=VALUE lines of a component's `environment` table in the root spin.toml, except APP_ID
# (set from the stack's app id).
spin_environment() {
  python3 - "$ROOT/spin.toml" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    env = tomllib.load(f)["component"][sys.argv[2]].get("environment", {})
for key, value in env.items():
    if key != "APP_ID":
        print(f"{key}={value}")
PY
}

component_wasm() { echo "$ROOT/target/wasm/wasm32-wasip2/release/${1//-/_}.wasm"; }

# The component as `wasmtime serve` links it. spin-sdk 5 (Spin 3) imports the
# `wasi:config/store@0.2.0-draft-2024-09-27` draft, while wasmtime 49's `-S config` provides the
# same interface (same types and functions) as `wasi:config/store@0.2.0-rc.1` only and refuses the
# draft's name. This copy differs from the release .wasm in that import's name alone (wasm-tools
# print | rename | parse; the code is the same); made again whenever the release .wasm is newer.
wasmtime_wasm() {
  local src out
  src="$(component_wasm "$1")"
  out="$ROOT/target/wasm/wasmtime/${1//-/_}.wasm"
  [ -f "$src" ] || die "component $1 not built ($src); run scripts/build-components.sh"
  if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
    mkdir -p "$(dirname "$out")"
    "$TOOLS/bin/wasm-tools" print "$src" \
      | sed 's#wasi:config/store@0\.2\.0-draft-2024-09-27#wasi:config/store@0.2.0-rc.1#g' \
      | "$TOOLS/bin/wasm-tools" parse -o "$out.$$" \
      && mv "$out.$$" "$out" || { rm -f "$out.$$"; die "could not make the wasmtime copy of $1"; }
  fi
  echo "$out"
}

# The runtime that hosts the components: `spin` (default; Spin's `spin up` with selective
# deployment, one component per process as each SpinApp runs one in the cluster) or `wasmtime`
# (`wasmtime serve`, the documented fallback).
component_runtime() {
  case "${RUNTIME:-spin}" in
    spin|wasmtime) echo "${RUNTIME:-spin}" ;;
    *) die "unknown RUNTIME '${RUNTIME}' (spin|wasmtime)" ;;
  esac
}

# Tunables a component reads from its WASI environment, passed on when set (KEY=VALUE lines).
component_tunables() {
  local v
  for v in RATE_LIMIT_PER_MINUTE MAX_QUEUE_MS MAX_LIVE_POLLS LIVE_SYNC DAPR_TIMEOUT_SECS HERD_WINDOW_SECS GENERATION_RATE CATCHUP_EVERY JWT_ISSUER JWT_AUDIENCE \
    RETENTION_OUTBOX_DAYS RETENTION_PROCESSED_DAYS RETENTION_CHANGES_DAYS RETENTION_IDEMPOTENCY_DAYS RETENTION_JOBS_DAYS; do
    if [ -n "${!v:-}" ]; then echo "$v=${!v}"; fi
  done
}

# ---- the application as an OCI artifact ------------------------------------------------------

# The reference the application is pushed to in the stack's own registry.
registry_ref() { echo "127.0.0.1:$REGISTRY_PORT/todo-platform:${1:-local}"; }

# A local OCI registry (distribution, scripts/setup.sh registry), data under $STACK_DIR/registry.
start_registry() {
  [ -x "$TOOLS/bin/registry" ] || bash "$ROOT/scripts/setup.sh" registry
  local dir="$STACK_DIR/registry" secret
  secret="$(stack_secret registry-http 32)"
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: $secret
EOF
  # OTEL_TRACES_EXPORTER=none: distribution would otherwise export its traces to an OTLP collector.
  spawn registry env OTEL_TRACES_EXPORTER=none "$TOOLS/bin/registry" serve "$dir/config.yml"
  wait_for "registry on 127.0.0.1:$REGISTRY_PORT" 30 curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

# Pushes the application as spin.toml describes it (the built components) to the stack's registry,
# the same command the deploy workflow runs towards ACR; records and prints the reference.
push_app() {
  local ref comp
  ref="$(registry_ref "${1:-}")"
  for comp in "${APP_COMPONENT[@]}"; do
    [ -f "$(component_wasm "$comp")" ] || die "component $comp not built; run scripts/build-components.sh (or spin build)"
  done
  proc_alive registry || start_registry >&2
  "$TOOLS/bin/spin" registry push --insecure --from "$ROOT/spin.toml" "$ref" >&2 || die "spin registry push $ref failed"
  mkdir -p "$RUN_DIR"
  echo "$ref" >"$RUN_DIR/app-ref"
  echo "$ref"
}

# Where `spin up` takes the application from: SPIN_APP_FROM (a manifest, a registry reference, or
# `registry`: what stack_up pushed to the stack's own registry); by default the root spin.toml.
app_source() {
  case "${SPIN_APP_FROM:-}" in
    "") echo "$ROOT/spin.toml" ;;
    registry) cat "$RUN_DIR/app-ref" 2>/dev/null || die "nothing pushed to the stack's registry (scripts/stack.sh $STACK_NAME push)" ;;
    *) echo "$SPIN_APP_FROM" ;;
  esac
}

# Starts one app's component on its port, talking to its own daprd. The sidecar's address reaches
# the component as the `dapr_url` variable (wasi:config/store): under Spin the application
# variable, which the manifest also makes the component's only allowed outbound host.
start_component() {
  local app="$1" r="${2:-1}" comp="${APP_COMPONENT[$1]}"
  local dapr listen kv extra=() name
  name="$comp$(replica_suffix "$r")"
  dapr="http://127.0.0.1:$(dapr_http_port "$app" "$r")"
  listen="127.0.0.1:$(app_port "$app" "$r")"
  while IFS= read -r kv; do [ -n "$kv" ] && extra+=(--env "$kv"); done < <(component_tunables)
  # Pages connect to the stack's Centrifugo on its own port (a cluster routes its path instead).
  if [ "$app" = dashboard ]; then extra+=(--env "LIVE_SYNC_URL=ws://127.0.0.1:$CENTRIFUGO_PORT/connection/websocket"); fi
  case "$(component_runtime)" in
    spin)
      [ -x "$TOOLS/bin/spin" ] || bash "$ROOT/scripts/setup.sh" spin
      local from; from="$(app_source)"
      if [ "$from" = "$ROOT/spin.toml" ]; then
        local wasm; wasm="$(component_wasm "$comp")"
        [ -f "$wasm" ] || die "component $comp not built ($wasm); run scripts/build-components.sh (or spin build)"
      fi
      # A registry reference is pulled over plain HTTP (the local registry has no TLS).
      case "$from" in /*|./*) ;; *) extra+=(--insecure) ;; esac
      mkdir -p "$STACK_DIR/spin/$name"
      # The host's instance pool, set deliberately (Spin's default, stated): the dashboard admits
      # at most MAX_LIVE_POLLS waiting pages and user writes are shed by queue delay long before
      # it fills, so Dapr's deliveries always find an instance (docs/reliability.md).
      SPIN_WASMTIME_INSTANCE_COUNT="${SPIN_INSTANCE_COUNT:-1000}" \
      spawn "$name" "$TOOLS/bin/spin" up --from "$from" --component-id "$comp" --listen "$listen" \
        --variable "dapr_url=$dapr" --state-dir "$STACK_DIR/spin/$name" --log-dir "" \
        --cache-dir "$STACK_DIR/spin/cache" ${extra[@]+"${extra[@]}"}
      ;;
    wasmtime)
      local wasm; wasm="$(wasmtime_wasm "$comp")"
      # The component's `environment` from spin.toml (e.g. ROUTE_PREFIX), as Spin would set it.
      while IFS= read -r kv; do [ -n "$kv" ] && extra+=(--env "$kv"); done < <(spin_environment "$comp")
      spawn "$name" "$TOOLS/bin/wasmtime" serve -S cli -S config -S "config-var=dapr_url=$dapr" \
        --env "APP_ID=$app" ${extra[@]+"${extra[@]}"} --addr "$listen" "$wasm"
      ;;
  esac
}

# ---- whole stack -----------------------------------------------------------------------------

# Fails loudly when a port this stack needs is held by something that is not this stack's own
# process (e.g. another checkout's stack), instead of talking to the wrong server.
preflight_ports() {
  local name port app
  local -a checks=("postgres $PG_PORT" "kafka $KAFKA_PORT" "scheduler $SCHEDULER_PORT" \
    "mailpit $SMTP_PORT" "mailpit $MAILPIT_HTTP_PORT" "mosquitto $MQTT_PORT" "centrifugo $CENTRIFUGO_PORT")
  if [ "${SPIN_APP_FROM:-}" = registry ]; then checks+=("registry $REGISTRY_PORT"); fi
  for app in "${APPS[@]}"; do
    checks+=("${APP_COMPONENT[$app]} $(app_port "$app")" "daprd-$app $(dapr_http_port "$app")")
  done
  for c in "${checks[@]}"; do
    read -r name port <<<"$c"
    if ! proc_alive "$name" && port_open "$port"; then
      die "port $port (for $name) is already in use by another process; stop it or choose other ports (TEST_PORT_OFFSET)"
    fi
  done
}

stack_up() {
  local start=$SECONDS
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  preflight_ports
  render_resources
  start_postgres
  start_kafka
  start_scheduler
  start_mailpit
  start_mosquitto
  start_centrifugo
  if [ "${SPIN_APP_FROM:-}" = registry ]; then
    log "pushing the application to the stack's registry; every component starts from that artifact"
    push_app local >/dev/null
  fi
  local app
  for app in "${APPS[@]}"; do start_component "$app"; done
  for app in "${APPS[@]}"; do start_daprd "$app"; done
  stack_wait_healthy 120
  # The task-api's readiness check registers the recurring outbox-sweep job (ADR 0001), the safety
  # net for events left unpublished by a crash between commit and publish; nothing else calls it
  # locally (a Kubernetes readiness probe does in production).
  wait_for "task-api ready (outbox-sweep job)" 60 curl -fsS "http://127.0.0.1:$(app_port task-api)/readyz"
  ok "stack '$STACK_NAME' healthy in $((SECONDS - start))s"
}

# Stack `cluster`: only the services the cluster's pods use from the host.
stack_infra_up() {
  local start=$SECONDS
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  render_resources
  start_postgres
  start_kafka
  start_mailpit
  start_mosquitto
  start_centrifugo
  ok "host services of stack '$STACK_NAME' up in $((SECONDS - start))s (pods reach them on $POD_LISTEN)"
}

stack_down() {
  local app
  for app in "${APPS[@]}"; do stop_proc "${APP_COMPONENT[$app]}-2" 10; stop_proc "${APP_COMPONENT[$app]}" 10; done
  for app in "${APPS[@]}"; do stop_proc "daprd-$app-2" 20; stop_proc "daprd-$app" 20; done
  stop_proc scheduler 20
  stop_proc registry 10
  stop_proc centrifugo 10
  stop_proc mosquitto 10
  stop_proc mailpit 10
  stop_proc kafka 60
  stop_postgres
}

# Health checks: name -> command.
health_checks() {
  echo "postgres|pg_isready -q -h 127.0.0.1 -p $PG_PORT"
  echo "kafka|port_open $KAFKA_PORT"
  [ "$STACK_NAME" = cluster ] || echo "scheduler|curl -fsS http://127.0.0.1:$SCHEDULER_HEALTH_PORT/healthz"
  echo "mailpit|curl -fsS http://127.0.0.1:$MAILPIT_HTTP_PORT/livez"
  echo "mosquitto|port_open $MQTT_PORT"
  echo "centrifugo|curl -fsS http://127.0.0.1:$CENTRIFUGO_PORT/health"
  if [ -f "$(pidfile registry)" ]; then echo "registry|curl -fsS http://127.0.0.1:$REGISTRY_PORT/v2/"; fi
  [ "$STACK_NAME" != cluster ] || return 0
  local app
  for app in "${APPS[@]}"; do
    echo "${APP_COMPONENT[$app]}|curl -fsS $(app_url "$app")/healthz"
    echo "daprd-$app|curl -fsS http://127.0.0.1:$(dapr_http_port "$app")/v1.0/healthz"
  done
}

stack_wait_healthy() {
  local timeout="$1" name cmd
  while IFS='|' read -r name cmd; do
    proc_alive "$name" || { tail -n 30 "$LOG_DIR/$name.log" >&2 2>/dev/null; die "$name is not running"; }
    wait_for "$name health" "$timeout" eval "$cmd"
  done < <(health_checks)
}

# Prints what runs where: each process, its pid, address, health and the program it runs (the
# components: `spin`, or `wasmtime` with RUNTIME=wasmtime).
stack_table() {
  local fmt="%-25s %-8s %-22s %-8s %-10s %s\n" name cmd addr status pid prog
  printf "$fmt" PROCESS PID ADDRESS HEALTH PROGRAM LOG
  while IFS='|' read -r name cmd; do
    case "$name" in
      kafka) addr="127.0.0.1:$KAFKA_PORT" ;;
      postgres) addr="127.0.0.1:$PG_PORT" ;;
      mosquitto) addr="127.0.0.1:$MQTT_PORT" ;;
      *) addr="$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$cmd" | head -1 || true)" ;;
    esac
    if eval "$cmd" >/dev/null 2>&1; then status=healthy; else status=DOWN; fi
    pid="$(proc_pid "$name")"
    prog="$( [ -n "$pid" ] && ps -o comm= -p "$pid" 2>/dev/null || true)"
    printf "$fmt" "$name" "${pid:--}" "$addr" "$status" "${prog:--}" "${LOG_DIR#"$ROOT"/}/$name.log"
  done < <(health_checks)
}
