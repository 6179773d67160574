#!/bin/bash
# LocalStack READY hook (docker-compose): creates the order-service DynamoDB tables.
# Idempotent: a table that already exists is left alone. Names match the env the
# order-service reads (ORDERS_TABLE, IDEMPOTENCY_TABLE, OUTBOX_TABLE).
set -euo pipefail

# create_table NAME HASH_KEY [CREATE-TABLE ARGS...]: on-demand billing, one string hash key.
create_table() {
  local name=$1 key=$2
  shift 2
  if awslocal dynamodb describe-table --table-name "$name" >/dev/null 2>&1; then
    echo "table $name: exists"
    return 0
  fi
  awslocal dynamodb create-table \
    --table-name "$name" \
    --attribute-definitions "AttributeName=$key,AttributeType=S" "${extra_attributes[@]}" \
    --key-schema "AttributeName=$key,KeyType=HASH" \
    --billing-mode PAY_PER_REQUEST "$@" >/dev/null
  awslocal dynamodb wait table-exists --table-name "$name"
  echo "table $name: created"
}

# Orders have the indexes order-service creates them with (adapters/dynamodb_deadline.go,
# createOrdersTable): the deadline sweeper's in-flight index and the customer index
# GET /orders?customerId= queries (adapters/dynamodb_list.go).
extra_attributes=(AttributeName=inFlightShard,AttributeType=S AttributeName=inFlightSince,AttributeType=N
  AttributeName=customerId,AttributeType=S AttributeName=createdAtNanos,AttributeType=N)
create_table "${ORDERS_TABLE:-orders}" transactionId \
  --global-secondary-indexes '[{"IndexName":"in-flight-by-created","KeySchema":[{"AttributeName":"inFlightShard","KeyType":"HASH"},{"AttributeName":"inFlightSince","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}},{"IndexName":"customerId-createdAt","KeySchema":[{"AttributeName":"customerId","KeyType":"HASH"},{"AttributeName":"createdAtNanos","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]'
extra_attributes=()
create_table "${IDEMPOTENCY_TABLE:-order-idempotency}" idempotencyKey
create_table "${OUTBOX_TABLE:-order-outbox}" id
