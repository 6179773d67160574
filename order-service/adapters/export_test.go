package adapters

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

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

// Calls counts the DynamoDB calls of a repository by operation, each attempt of a retried call
// included.
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// Take returns the counts so far and starts again from zero.
func (c *Calls) Take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// CountCalls makes r count the calls it sends to DynamoDB from now on.
func CountCalls(r *DynamoDBRepository) *Calls {
	c := &Calls{n: map[string]int{}}
	count := middleware.FinalizeMiddlewareFunc("countCalls", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.n[awsmiddleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleFinalize(ctx, in)
	})
	r.client = dynamodb.New(r.client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Finalize.Add(count, middleware.After) })
	})
	r.writes.client = r.client
	return c
}

// IsBundled reports whether id is the id PendingOutbox gives a record kept in a bundle.
func IsBundled(id string) bool {
	_, _, _, ok := parseBundleRecordID(id)
	return ok
}

// OutboxItems counts the items in r's outbox table, bundles counting once.
func OutboxItems(ctx context.Context, r *DynamoDBRepository) (int, error) {
	out, err := r.client.Scan(ctx, &dynamodb.ScanInput{TableName: &r.cfg.OutboxTable, Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, err
	}
	return int(out.Count), nil
}
