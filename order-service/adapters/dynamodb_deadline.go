package adapters

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// The deadline sweeper finds the orders in flight through a sparse global secondary index:
// only PENDING and RESERVED orders carry its key attributes (toOrderItem drops them once the
// order is terminal), so the index holds only the orders still in flight, spread over
// inFlightShards partitions by transactionId and sorted by creation time within each.
const (
	inFlightIndex     = "in-flight-by-created"
	inFlightShardAttr = "inFlightShard" // S, "0" .. inFlightShards-1
	inFlightSinceAttr = "inFlightSince" // N, createdAt in Unix nanoseconds
	inFlightShards    = 8
)

// markInFlight adds the in-flight index's attributes to av, the item of o, while o is in flight.
func markInFlight(av map[string]types.AttributeValue, o domain.Order) {
	if o.Status.Terminal() {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(o.TransactionID))
	av[inFlightShardAttr] = &types.AttributeValueMemberS{Value: strconv.Itoa(int(h.Sum32() % inFlightShards))}
	av[inFlightSinceAttr] = &types.AttributeValueMemberN{Value: strconv.FormatInt(o.CreatedAt.UnixNano(), 10)}
}

// inFlightState is whether the orders table's in-flight index can be queried yet.
type inFlightState struct {
	mu      sync.Mutex
	ready   bool
	checked time.Time
}

// inFlightRecheck is how often DueOrders looks again whether an index being built is ready.
const inFlightRecheck = 30 * time.Second

// inFlightIndexDefinition is the in-flight index as CreateTable and UpdateTable take it.
func inFlightIndexDefinition() ([]types.AttributeDefinition, []types.KeySchemaElement, *types.Projection) {
	return []types.AttributeDefinition{
			{AttributeName: aws.String(inFlightShardAttr), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(inFlightSinceAttr), AttributeType: types.ScalarAttributeTypeN},
		}, []types.KeySchemaElement{
			{AttributeName: aws.String(inFlightShardAttr), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(inFlightSinceAttr), KeyType: types.KeyTypeRange},
		}, &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
}

// createOrdersTable creates the orders table with its in-flight and customer indexes, unless
// it exists.
func (r *DynamoDBRepository) createOrdersTable(ctx context.Context) error {
	attrs, keys, projection := inFlightIndexDefinition()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(r.cfg.OrdersTable),
		AttributeDefinitions: append([]types.AttributeDefinition{{AttributeName: aws.String("transactionId"), AttributeType: types.ScalarAttributeTypeS}}, attrs...),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("transactionId"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(inFlightIndex), KeySchema: keys, Projection: projection,
		}},
		BillingMode: types.BillingModePayPerRequest,
	}
	addCustomerIndex(in) // ListOrders (dynamodb_list.go)
	_, err := r.client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", r.cfg.OrdersTable, err)
	}
	return nil
}

// inFlightReady reports whether the in-flight index can be queried, asking DynamoDB at most
// every inFlightRecheck. An orders table made before the deadline existed lacks the index: on
// AWS (no endpoint override) it is added here, online, and DueOrders scans until it is ACTIVE;
// DynamoDB Local never finishes building an index on an existing table, so against an emulator
// such a table is scanned for good (recreate it to get the index).
func (r *DynamoDBRepository) inFlightReady(ctx context.Context) (bool, error) {
	st := r.inFlight
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready || time.Since(st.checked) < inFlightRecheck {
		return st.ready, nil
	}
	out, err := r.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.cfg.OrdersTable)})
	if err != nil {
		return false, fmt.Errorf("describe table %s: %w", r.cfg.OrdersTable, err)
	}
	st.checked = time.Now()
	for _, g := range out.Table.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) == inFlightIndex {
			st.ready = g.IndexStatus == types.IndexStatusActive && !aws.ToBool(g.Backfilling)
			return st.ready, nil
		}
	}
	if r.cfg.Endpoint == "" {
		attrs, keys, projection := inFlightIndexDefinition()
		_, err := r.client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(r.cfg.OrdersTable),
			AttributeDefinitions: attrs,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: aws.String(inFlightIndex), KeySchema: keys, Projection: projection,
			}}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return false, fmt.Errorf("add index %s to %s: %w", inFlightIndex, r.cfg.OrdersTable, err)
		}
	}
	return false, nil
}

// dueOrdersByScan is DueOrders without the index: a filtered scan of the whole table.
func (r *DynamoDBRepository) dueOrdersByScan(ctx context.Context, createdBefore time.Time, limit int) ([]string, error) {
	pages := dynamodb.NewScanPaginator(r.client, &dynamodb.ScanInput{
		TableName:                aws.String(r.cfg.OrdersTable),
		FilterExpression:         aws.String("#status IN (:pending, :reserved)"),
		ProjectionExpression:     aws.String("transactionId, createdAt"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending":  &types.AttributeValueMemberS{Value: string(domain.StatusPending)},
			":reserved": &types.AttributeValueMemberS{Value: string(domain.StatusReserved)},
		},
	})
	var ids []string
	for pages.HasMorePages() && len(ids) < limit {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var items []struct {
			TransactionID string    `dynamodbav:"transactionId"`
			CreatedAt     time.Time `dynamodbav:"createdAt"`
		}
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode orders: %w", err)
		}
		for _, it := range items {
			if !it.CreatedAt.After(createdBefore) && len(ids) < limit {
				ids = append(ids, it.TransactionID)
			}
		}
	}
	return ids, nil
}

// DueOrders implements app.Repository: it queries each shard of the in-flight index for orders
// created at or before createdBefore. The index is eventually consistent; the caller reads
// each order again, consistently, before it decides anything.
func (r *DynamoDBRepository) DueOrders(ctx context.Context, createdBefore time.Time, limit int) ([]string, error) {
	ready, err := r.inFlightReady(ctx)
	if err != nil {
		return nil, err
	}
	if !ready {
		return r.dueOrdersByScan(ctx, createdBefore, limit)
	}
	var ids []string
	for shard := 0; shard < inFlightShards && len(ids) < limit; shard++ {
		out, err := r.client.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(r.cfg.OrdersTable),
			IndexName:              aws.String(inFlightIndex),
			KeyConditionExpression: aws.String("#shard = :shard AND #since <= :cutoff"),
			ExpressionAttributeNames: map[string]string{
				"#shard": inFlightShardAttr, "#since": inFlightSinceAttr,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":shard":  &types.AttributeValueMemberS{Value: strconv.Itoa(shard)},
				":cutoff": &types.AttributeValueMemberN{Value: strconv.FormatInt(createdBefore.UnixNano(), 10)},
			},
			Limit: aws.Int32(int32(limit - len(ids))),
		})
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", inFlightIndex, err)
		}
		for _, item := range out.Items {
			if id, ok := item["transactionId"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, id.Value)
			}
		}
	}
	return ids, nil
}

// UpdateOrderWithEvents implements app.Repository: the order, conditional on its version, and
// the messages' outbox records in one TransactWriteItems.
func (r *DynamoDBRepository) UpdateOrderWithEvents(ctx context.Context, o domain.Order, msgs []kafka.Message) error {
	item, err := toOrderItem(o, o.Version+1)
	if err != nil {
		return err
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{
		TableName:                 aws.String(r.cfg.OrdersTable),
		Item:                      item,
		ConditionExpression:       aws.String("version = :read"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: strconv.FormatInt(o.Version, 10)}},
	}}}
	now := time.Now().UTC().UnixNano()
	for i, m := range msgs {
		m = kafka.StampTrace(ctx, m)
		e := m.Event
		av, err := attributevalue.MarshalMap(outboxItem{
			ID: outboxID(m), Topic: m.Topic, EventKey: e.Key, EventID: e.ID, EventType: string(e.Type),
			Source: e.Source, EventTime: e.Time.UTC(), Data: string(e.Data), CreatedAt: now + int64(i),
			TraceParent: m.TraceParent, TraceState: m.TraceState,
			ClaimOwner: r.owner, ClaimUntil: r.preClaim(),
		})
		if err != nil {
			return err
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(r.cfg.OutboxTable), Item: av}})
	}
	_, err = r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		// The version moved on (ConditionalCheckFailed) or another writer was mid-way
		// (TransactionConflict): either way the caller reads the order again.
		return fmt.Errorf("%w: %v", app.ErrConflict, err)
	}
	return err
}
