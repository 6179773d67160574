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
	_, _, _, bundled := parseBundleRecordID(id)
	var item map[string]types.AttributeValue
	var at, count int
	if bundled {
		var err error
		if item, at, count, err = r.bundledRecord(ctx, id); err != nil {
			return err
		}
	} else {
		out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(r.cfg.OutboxTable),
			Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return err
		}
		item = out.Item
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
	if bundled {
		return r.removeBundled(ctx, id, at, count)
	}
	_, err := r.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(r.cfg.OutboxTable),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
	})
	return err
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
