#!/bin/bash
# LocalStack READY hook (docker-compose): creates the order-service DynamoDB tables.
# Idempotent: a table that already exists is left alone. Names match the env the
# order-service reads (ORDERS_TABLE, IDEMPOTENCY_TABLE, OUTBOX_TABLE).
set -euo pipefail

# create_table NAME HASH_KEY: on-demand billing, one string hash key.
create_table() {
  local name=$1 key=$2
  if awslocal dynamodb describe-table --table-name "$name" >/dev/null 2>&1; then
    echo "table $name: exists"
    return 0
  fi
  awslocal dynamodb create-table \
    --table-name "$name" \
    --attribute-definitions "AttributeName=$key,AttributeType=S" \
    --key-schema "AttributeName=$key,KeyType=HASH" \
    --billing-mode PAY_PER_REQUEST >/dev/null
  awslocal dynamodb wait table-exists --table-name "$name"
  echo "table $name: created"
}

create_table "${ORDERS_TABLE:-orders}" transactionId
create_table "${IDEMPOTENCY_TABLE:-order-idempotency}" idempotencyKey
create_table "${OUTBOX_TABLE:-order-outbox}" id
