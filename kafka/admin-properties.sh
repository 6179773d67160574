#!/bin/sh
# Writes FILE, the client properties of the admin principal, from KAFKA_ADMIN_PASSWORD: how
# kafka-init (kafka/init.sh) and the kafka container's healthcheck log in to a broker with
# SASL and ACLs (docs/kafka-auth.md). admin logs in with PLAIN, checked against the broker's
# static list, so it works before any SCRAM credential exists. POSIX sh: the image has no bash.
set -eu
: "${1:?usage: admin-properties.sh FILE}"
: "${KAFKA_ADMIN_PASSWORD:?KAFKA_ADMIN_PASSWORD is not set (see .env.example)}"
umask 077
cat >"$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPS
