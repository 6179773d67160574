package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// updateOrderWithOutbox writes the order item (over version o.Version) and msgs in the outbox
// in one TransactWriteItems: either the state change and its events are stored, or neither.
func (r *DynamoDBRepository) updateOrderWithOutbox(ctx context.Context, o domain.Order, item map[string]types.AttributeValue, msgs []kafka.Message) error {
	now := time.Now().UTC()
	writes := []types.TransactWriteItem{{Put: &types.Put{
		TableName:                 aws.String(r.cfg.OrdersTable),
		Item:                      item,
		ConditionExpression:       aws.String("version = :read"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: fmt.Sprint(o.Version)}},
	}}}
	for i, msg := range msgs {
		msg = kafka.StampTrace(ctx, msg)
		e := msg.Event
		av, err := attributevalue.MarshalMap(outboxItem{
			ID: e.ID, Topic: msg.Topic, EventKey: e.Key, EventID: e.ID, EventType: string(e.Type),
			Source: e.Source, EventTime: e.Time.UTC(), Data: string(e.Data), CreatedAt: now.UnixNano() + int64(i),
			TraceParent: msg.TraceParent, TraceState: msg.TraceState,
			ClaimOwner: r.owner, ClaimUntil: r.preClaim(),
		})
		if err != nil {
			return err
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(r.cfg.OutboxTable), Item: av}})
	}
	// No ClientRequestToken: an SDK retry of a transaction that did commit fails on the version
	// condition, and the caller's re-read then finds the event already applied.
	err := r.writes.write(ctx, writes, func(ctx context.Context) error {
		_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		return err
	})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		for _, reason := range cancelled.CancellationReasons {
			switch aws.ToString(reason.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				// Someone else wrote the order since it was read: read it again.
				return app.ErrConflict
			}
		}
	}
	if err != nil {
		return fmt.Errorf("update order %s with its events: %w", o.TransactionID, err)
	}
	return nil
}
