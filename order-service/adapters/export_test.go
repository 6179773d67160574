package adapters

import "time"

// SetOutboxLease makes r's outbox claims last d, so a test sees one expire without waiting
// outbox.Lease.
func SetOutboxLease(r *DynamoDBRepository, d time.Duration) { r.lease = d }
