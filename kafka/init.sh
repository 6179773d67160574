#!/bin/sh
# docker-compose's kafka-init: as admin, creates the topics (create-topics.sh), then each
# service's SCRAM credentials and ACLs (create-acls.sh), and exits 0. Idempotent.
set -eu
here=$(dirname "$0")
export KAFKA_COMMAND_CONFIG=/tmp/admin.properties
sh "$here/admin-properties.sh" "$KAFKA_COMMAND_CONFIG"
sh "$here/create-topics.sh"
sh "$here/create-acls.sh"
