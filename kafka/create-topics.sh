#!/bin/sh
# Creates the saga topics and their dead-letter topics (<topic>.dlt). Idempotent.
#
# One script for both setups so the topic rules cannot drift apart:
#   - docker-compose's kafka-init runs it inside the apache/kafka image with the defaults;
#   - scripts/infra.sh runs it on the host with KAFKA_TOPICS_CMD pointing at TopicCommand
#     from the Maven jars and KAFKA_BOOTSTRAP=127.0.0.1:9092.
# POSIX sh on purpose: do not rely on bash being in the image.
set -eu
# KAFKA_TOPICS_CMD may be "java -cp /x/libs/* org.apache.kafka.tools.TopicCommand": it is
# split on spaces below, and the '*' must reach java as is, so no pathname expansion.
set -f

KAFKA_TOPICS_CMD="${KAFKA_TOPICS_CMD:-/opt/kafka/bin/kafka-topics.sh}"
KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:19092}"
PARTITIONS="${KAFKA_PARTITIONS:-12}"
# On a broker with ACLs: the admin client properties (docs/kafka-auth.md); unset, none.
COMMAND_CONFIG="${KAFKA_COMMAND_CONFIG:+--command-config $KAFKA_COMMAND_CONFIG}"
TOPICS="${KAFKA_TOPIC_INVENTORY:-inventory} ${KAFKA_TOPIC_PAYMENT:-payment} ${KAFKA_TOPIC_ORDER:-order} ${KAFKA_TOPIC_ORDER_STATUS:-order-status}"

# Each kafka-topics call starts a JVM (1-2 s), so list once and create only what is missing.
existing=$($KAFKA_TOPICS_CMD --bootstrap-server "$KAFKA_BOOTSTRAP" $COMMAND_CONFIG --list)

for base in $TOPICS; do
  for topic in "$base" "$base.dlt"; do
    if printf '%s\n' "$existing" | grep -qx "$topic"; then
      echo "topic $topic: exists"
      continue
    fi
    # Single broker, so replication factor 1. --if-not-exists covers a concurrent creator.
    $KAFKA_TOPICS_CMD --bootstrap-server "$KAFKA_BOOTSTRAP" $COMMAND_CONFIG --create --if-not-exists \
      --topic "$topic" --partitions "$PARTITIONS" --replication-factor 1
  done
done
