#!/bin/sh
# Creates each service's SCRAM-SHA-512 credentials and its ACLs on a broker with the
# StandardAuthorizer (docs/kafka-auth.md). Idempotent: a credential is reset to the password
# given, an ACL that exists is left as it is.
#
# One script for both setups, like create-topics.sh:
#   - docker-compose's kafka-init runs it inside the apache/kafka image with the defaults;
#   - scripts/kafka-auth.sh runs it on the host with KAFKA_CONFIGS_CMD and KAFKA_ACLS_CMD
#     pointing at ConfigCommand and AclCommand from the Maven jars.
# It authenticates as the admin principal (a super user) with KAFKA_COMMAND_CONFIG, a client
# properties file. Passwords come from the environment only:
#   KAFKA_PASSWORD_ORDER_SERVICE, KAFKA_PASSWORD_INVENTORY_SERVICE,
#   KAFKA_PASSWORD_PAYMENT_SERVICE, KAFKA_PASSWORD_NOTIFICATION_SERVICE.
#
# Who may do what (the principal is the service's name, and so is its consumer group):
#   order-service         reads order;        writes inventory, payment, order-status, order.dlt
#                         (ORDER_CREATE to inventory, ORDER_EXPIRED to inventory and payment)
#   inventory-service     reads inventory;    writes payment, order, inventory.dlt
#   payment-service       reads payment;      writes order, inventory, payment.dlt
#   notification-service  reads order-status; writes order-status.dlt
# Read on its topic and group (Describe is implied: the lag reader needs it), Write on what it
# publishes to, IdempotentWrite on the cluster for the idempotent producer. No Create: topics
# come from create-topics.sh, run as admin. POSIX sh: the image has no bash.
set -eu
set -f

KAFKA_CONFIGS_CMD="${KAFKA_CONFIGS_CMD:-/opt/kafka/bin/kafka-configs.sh}"
KAFKA_ACLS_CMD="${KAFKA_ACLS_CMD:-/opt/kafka/bin/kafka-acls.sh}"
KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:19092}"
: "${KAFKA_COMMAND_CONFIG:?the admin client properties (SASL credentials of the admin principal)}"
INVENTORY="${KAFKA_TOPIC_INVENTORY:-inventory}"
PAYMENT="${KAFKA_TOPIC_PAYMENT:-payment}"
ORDER="${KAFKA_TOPIC_ORDER:-order}"
ORDER_STATUS="${KAFKA_TOPIC_ORDER_STATUS:-order-status}"

admin() { "$@" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$KAFKA_COMMAND_CONFIG"; }

# service NAME PASSWORD CONSUMED PUBLISHED...
service() {
  name=$1 password=$2 consumed=$3
  shift 3
  [ -n "$password" ] || { echo "create-acls: no password for $name" >&2; exit 1; }
  admin $KAFKA_CONFIGS_CMD --alter --entity-type users --entity-name "$name" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" >/dev/null
  admin $KAFKA_ACLS_CMD --add --allow-principal "User:$name" \
    --operation Read --operation Describe --topic "$consumed" --group "$name" >/dev/null
  writes=""
  for t in "$@" "$consumed.dlt"; do writes="$writes --topic $t"; done
  admin $KAFKA_ACLS_CMD --add --allow-principal "User:$name" \
    --operation Write --operation Describe $writes >/dev/null
  echo "principal $name: reads $consumed, writes $* $consumed.dlt"
}

# admin also gets a SCRAM credential, so operators' tools (edmctl, loadgen) log in with the same
# mechanism as the services; the broker itself logs in as admin with PLAIN.
if [ -n "${KAFKA_ADMIN_PASSWORD:-}" ]; then
  admin $KAFKA_CONFIGS_CMD --alter --entity-type users --entity-name admin \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$KAFKA_ADMIN_PASSWORD]" >/dev/null
  echo "principal admin: SCRAM-SHA-512 credential"
fi
service order-service "${KAFKA_PASSWORD_ORDER_SERVICE:-}" "$ORDER" "$INVENTORY" "$PAYMENT" "$ORDER_STATUS"
service inventory-service "${KAFKA_PASSWORD_INVENTORY_SERVICE:-}" "$INVENTORY" "$PAYMENT" "$ORDER"
service payment-service "${KAFKA_PASSWORD_PAYMENT_SERVICE:-}" "$PAYMENT" "$ORDER" "$INVENTORY"
service notification-service "${KAFKA_PASSWORD_NOTIFICATION_SERVICE:-}" "$ORDER_STATUS"
admin $KAFKA_ACLS_CMD --add --operation IdempotentWrite --cluster \
  --allow-principal User:order-service --allow-principal User:inventory-service \
  --allow-principal User:payment-service --allow-principal User:notification-service >/dev/null
echo "IdempotentWrite on the cluster for the four services"
