package adapters

import (
	"context"
	"errors"
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
// conditional batch write, so the claims of a batch run claimWorkers at a time, and a record
// this relay claimed less than half a lease ago is not claimed again.

// claimWorkers is how many claims of one batch are in flight at once.
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

// claim takes items for this relay and returns those it holds now; a record another replica
// claimed meanwhile, or that was published and deleted, is left out.
func (r *DynamoDBRepository) claim(ctx context.Context, items []outboxItem, now time.Time) ([]outboxItem, error) {
	until := now.Add(r.lease).UnixMilli()
	fresh := now.Add(r.lease / 2).UnixMilli()
	held := make([]bool, len(items))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range min(claimWorkers, len(items)) {
		wg.Go(func() {
			for i := range next {
				it := items[i]
				if it.ClaimOwner == r.owner && it.ClaimUntil > fresh {
					held[i] = true
					continue
				}
				values := r.claimValues(now)
				values[":until"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(until, 10)}
				_, err := r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(r.cfg.OutboxTable),
					Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: it.ID}},
					// attribute_exists: a record deleted since the Scan must not come back.
					ConditionExpression:       aws.String("attribute_exists(id) AND (" + claimable + ")"),
					UpdateExpression:          aws.String("SET claimOwner = :me, claimUntil = :until"),
					ExpressionAttributeValues: values,
				})
				var taken *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					held[i] = true
				case errors.As(err, &taken):
				default:
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range items {
		next <- i
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

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
