package adapters

import "time"

// SetOutboxLease makes r's outbox claims last d, so a test sees one expire without waiting
// outbox.Lease.
func SetOutboxLease(r *DynamoDBRepository, d time.Duration) { r.lease = d }

// NewDynamoDBClient exposes the repository's client, so a test can call a server that never answers.
var NewDynamoDBClient = newDynamoDBClient

// DynamoAttempts and DynamoCallBound expose the client's bounds.
const (
	DynamoAttempts  = dynamoAttempts
	DynamoCallBound = dynamoAttempts*dynamoAttemptTimeout + (dynamoAttempts-1)*dynamoMaxBackoff
)
