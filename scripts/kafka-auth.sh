#!/usr/bin/env bash
# The pieces of an authenticated Kafka (SASL/SCRAM-SHA-512 and ACLs, docs/kafka-auth.md), shared
# by `KAFKA_AUTH=1 scripts/infra.sh up` and e2e/kafka_auth_test.go (which runs a private broker):
#
#   scripts/kafka-auth.sh configure DIR PORT CONTROLLER_PORT
#       writes DIR/server.properties and DIR/admin.properties (the admin client's settings)
#       and formats DIR/logs if it is not formatted yet;
#   scripts/kafka-auth.sh provision DIR BOOTSTRAP
#       as admin: creates the topics (kafka/create-topics.sh), each service's SCRAM credentials
#       and its ACLs (kafka/create-acls.sh).
#
# Passwords come from the environment only: KAFKA_ADMIN_PASSWORD and KAFKA_PASSWORD_<SERVICE>
# (ORDER_SERVICE, INVENTORY_SERVICE, PAYMENT_SERVICE, NOTIFICATION_SERVICE). KAFKA_LIBS is the
# folder of the Kafka jars (scripts/infra.sh fetches them into .data/tools/kafka/libs).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_LIBS="${KAFKA_LIBS:-$REPO/.data/tools/kafka/libs}"
die() { echo "kafka-auth: error: $*" >&2; exit 1; }
: "${KAFKA_ADMIN_PASSWORD:?KAFKA_ADMIN_PASSWORD is not set}"
compgen -G "$KAFKA_LIBS/kafka-clients-*.jar" >/dev/null ||
  die "no Kafka jars in $KAFKA_LIBS (scripts/infra.sh up fetches them)"
# The commands below carry "-cp libs/*" unquoted: the '*' is for java's classpath, not the shell.
set -f

# A short-lived admin JVM starts faster with only the C1 compiler.
tool() { echo "java -Xmx256m -XX:TieredStopAtLevel=1 -cp $KAFKA_LIBS/* $1"; }

configure() {
  local dir=$1 port=$2 controller_port=$3
  mkdir -p "$dir"
  # The password goes into a properties file, so it must not break the JAAS line's quoting.
  [[ $KAFKA_ADMIN_PASSWORD =~ ^[A-Za-z0-9._~-]+$ ]] || die "KAFKA_ADMIN_PASSWORD: use letters, digits and ._~- only"
  (
    umask 077
    sed -e "s|@KAFKA_DATA@|$dir|g" -e "s|@KAFKA_PORT@|$port|g" -e "s|@KAFKA_CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@KAFKA_ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" "$REPO/infra/kafka/server-auth.properties" >"$dir/server.properties"
    cat >"$dir/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPS
  )
  if [[ ! -f $dir/logs/meta.properties ]]; then
    local cluster_id
    cluster_id=$($(tool kafka.tools.StorageTool) random-uuid | tail -n1) || die "kafka random-uuid failed"
    $(tool kafka.tools.StorageTool) format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      { cat "$dir/format.log" >&2; die "kafka storage format failed"; }
  fi
}

provision() {
  local dir=$1 bootstrap=$2
  export KAFKA_BOOTSTRAP=$bootstrap KAFKA_COMMAND_CONFIG=$dir/admin.properties
  KAFKA_TOPICS_CMD="$(tool org.apache.kafka.tools.TopicCommand)" sh "$REPO/kafka/create-topics.sh"
  KAFKA_CONFIGS_CMD="$(tool kafka.admin.ConfigCommand)" KAFKA_ACLS_CMD="$(tool org.apache.kafka.tools.AclCommand)" \
    sh "$REPO/kafka/create-acls.sh"
}

case "${1:-}" in
configure) [[ $# == 4 ]] || die "usage: $0 configure DIR PORT CONTROLLER_PORT"; configure "$2" "$3" "$4" ;;
provision) [[ $# == 3 ]] || die "usage: $0 provision DIR BOOTSTRAP"; provision "$2" "$3" ;;
*) die "usage: $0 configure DIR PORT CONTROLLER_PORT | provision DIR BOOTSTRAP" ;;
esac
