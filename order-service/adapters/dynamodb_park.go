package adapters

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/platform/outbox"
)

var _ outbox.Parker = (*DynamoDBRepository)(nil)

// parkedTable is where ParkOutbox sets records aside: the outbox table's name + "-parked",
// created on the first park (parking is rare).
func (r *DynamoDBRepository) parkedTable() string { return r.cfg.OutboxTable + "-parked" }

// ParkOutbox implements outbox.Parker: it copies the record, with the reason and when, to the
// parked table and then deletes it from the outbox (a crash in between parks it again).
// A bundled record (dynamodb_outbox_bundle.go) is parked under its own id and taken out of its
// bundle.
func (r *DynamoDBRepository) ParkOutbox(ctx context.Context, id, reason string) error {
	item, remove, err := r.outboxRecord(ctx, id)
	if err != nil {
		return err
	}
	if item == nil {
		return nil // parked (or published) already
	}
	if err := r.ensureTable(ctx, r.parkedTable(), "id"); err != nil {
		return err
	}
	item = maps.Clone(item)
	item["reason"] = &types.AttributeValueMemberS{Value: reason}
	item["parkedAt"] = &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)}
	if _, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.parkedTable()), Item: item}); err != nil {
		return fmt.Errorf("park outbox record %s: %w", id, err)
	}
	return remove(ctx)
}

// outboxRecord reads the record named by id, plain or bundled, and returns it with the call
// that takes it out of the outbox (nil if it is gone).
func (r *DynamoDBRepository) outboxRecord(ctx context.Context, id string) (map[string]types.AttributeValue, func(context.Context) error, error) {
	if _, _, _, bundled := parseBundleRecordID(id); bundled {
		return r.bundledRecord(ctx, id)
	}
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
	out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.cfg.OutboxTable), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil, nil, err
	}
	return out.Item, func(ctx context.Context) error {
		_, err := r.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.cfg.OutboxTable), Key: key})
		return err
	}, nil
}

// ParkedOutbox returns the parked records' ids and reasons, for operators and tests.
func (r *DynamoDBRepository) ParkedOutbox(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	pages := dynamodb.NewScanPaginator(r.client, &dynamodb.ScanInput{TableName: aws.String(r.parkedTable()), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			return out, nil // nothing was ever parked
		}
		if err != nil {
			return nil, err
		}
		var items []struct {
			ID     string `dynamodbav:"id"`
			Reason string `dynamodbav:"reason"`
		}
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out[it.ID] = it.Reason
		}
	}
	return out, nil
}

// DeleteParkedTable drops the parked table if there is one; tests clean up with it.
func (r *DynamoDBRepository) DeleteParkedTable(ctx context.Context) error {
	_, err := r.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.parkedTable())})
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil
	}
	return err
}
