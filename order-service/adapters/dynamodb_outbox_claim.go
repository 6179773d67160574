package adapters

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The replicas of order-service share one DynamoDB outbox. Each relay claims the records it is
// about to publish with a conditional UpdateItem (claimOwner = this relay, claimUntil = now +
// outbox.Lease, in Unix milliseconds) that succeeds only when the record is unclaimed, its
// claim expired, or it is already this relay's. Two live relays never publish the same record;
// the records of a replica that died are taken over once its lease expires. DynamoDB has no
// conditional batch write, but PartiQL's BatchExecuteStatement runs 25 conditional updates that
// succeed or fail one by one; a record this relay claimed less than half a lease ago is not
// claimed again.

// A record is written already claimed by the relay of the process that writes it, in the same
// transaction (preClaim): the write wakes that relay, which then publishes the record without
// a claim of its own (claim skips records this relay claimed less than half a lease ago). So
// with one replica or many, a record costs no claim call unless its writer's relay falls more
// than half a lease behind; if the writer dies, another replica takes the record over once the
// lease expires, as it does the records a relay claimed and did not publish.

// preClaim is the claimUntil (Unix milliseconds) of a record this process writes now.
func (r *DynamoDBRepository) preClaim() int64 { return time.Now().Add(r.lease).UnixMilli() }

// claimWorkers is how many BatchExecuteStatement calls of one batch are in flight at once.
const claimWorkers = 16

// maxClaimPages bounds the Scan pages one read walks to find records nobody holds: when another
// replica holds the first page, this one looks further instead of idling.
const maxClaimPages = 4

// claimable is the condition under which this relay may take a record (:now, :me).
const claimable = "attribute_not_exists(claimUntil) OR claimUntil < :now OR claimOwner = :me"

// scanClaimable reads up to limit records this relay may claim.
func (r *DynamoDBRepository) scanClaimable(ctx context.Context, limit int, now time.Time) ([]outboxItem, error) {
	var items []outboxItem
	var start map[string]types.AttributeValue
	for page := 0; page < maxClaimPages && len(items) < limit; page++ {
		out, err := r.client.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 aws.String(r.cfg.OutboxTable),
			ConsistentRead:            aws.Bool(true),
			Limit:                     aws.Int32(int32(limit - len(items))),
			ExclusiveStartKey:         start,
			FilterExpression:          aws.String(claimable),
			ExpressionAttributeValues: r.claimValues(now),
		})
		if err != nil {
			return nil, err
		}
		var got []outboxItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &got); err != nil {
			return nil, err
		}
		items = append(items, got...)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	return items, nil
}

func (r *DynamoDBRepository) claimValues(now time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
		":me":  &types.AttributeValueMemberS{Value: r.owner},
	}
}

// claimStatement is one PartiQL claim: parameters owner, until, id, now, owner. An UPDATE
// whose WHERE does not hold (another relay's live claim, or no such item: it was published and
// deleted since the Scan) changes nothing and fails with ConditionalCheckFailed.
const claimStatement = `UPDATE "%s" SET claimOwner = ? SET claimUntil = ? WHERE id = ? AND (claimUntil IS MISSING OR claimUntil < ? OR claimOwner = ?)`

// claimChunk is how many claims one BatchExecuteStatement carries (DynamoDB's limit).
const claimChunk = 25

// claim takes items for this relay and returns those it holds now; a record another replica
// claimed meanwhile, or that was published and deleted, is left out. The claims go 25 to a
// BatchExecuteStatement, each statement conditional on its own, claimWorkers batches at once.
func (r *DynamoDBRepository) claim(ctx context.Context, items []outboxItem, now time.Time) ([]outboxItem, error) {
	until := &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(r.lease).UnixMilli(), 10)}
	nowAV := &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)}
	me := &types.AttributeValueMemberS{Value: r.owner}
	fresh := now.Add(r.lease / 2).UnixMilli()
	statement := aws.String(fmt.Sprintf(claimStatement, r.cfg.OutboxTable))
	held := make([]bool, len(items))
	var claims [][]int // indexes into items, claimChunk at most each
	for i, it := range items {
		if it.ClaimOwner == r.owner && it.ClaimUntil > fresh {
			held[i] = true // claimed by this relay recently enough
			continue
		}
		if len(claims) == 0 || len(claims[len(claims)-1]) == claimChunk {
			claims = append(claims, nil)
		}
		claims[len(claims)-1] = append(claims[len(claims)-1], i)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan []int)
	for range min(claimWorkers, len(claims)) {
		wg.Go(func() {
			for chunk := range next {
				stmts := make([]types.BatchStatementRequest, len(chunk))
				for k, i := range chunk {
					stmts[k] = types.BatchStatementRequest{Statement: statement, Parameters: []types.AttributeValue{
						me, until, &types.AttributeValueMemberS{Value: items[i].ID}, nowAV, me,
					}}
				}
				out, err := r.client.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: stmts})
				if err == nil && len(out.Responses) != len(chunk) {
					err = fmt.Errorf("%d answers to %d claims", len(out.Responses), len(chunk))
				}
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					continue
				}
				for k, resp := range out.Responses {
					switch {
					case resp.Error == nil:
						held[chunk[k]] = true
					case resp.Error.Code == types.BatchStatementErrorCodeEnumConditionalCheckFailed:
					default: // throttled, conflicting: tried again on the next read
						mu.Lock()
						firstErr = cmp.Or(firstErr, fmt.Errorf("claim %s: %s: %s", items[chunk[k]].ID, resp.Error.Code, aws.ToString(resp.Error.Message)))
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, chunk := range claims {
		next <- chunk
	}
	close(next)
	wg.Wait()
	var out []outboxItem
	for i, it := range items {
		if held[i] {
			out = append(out, it)
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil // what could not be claimed is tried again on the next read
}
