package adapters

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
)

var (
	_ app.InFlightCounter   = (*SQLiteRepository)(nil)
	_ app.InFlightCounter   = (*DynamoDBRepository)(nil)
	_ app.InFlightRecounter = (*SQLiteRepository)(nil)
	_ app.InFlightRecounter = (*DynamoDBRepository)(nil)
)

// CountInFlight implements app.InFlightCounter: the orders still PENDING or RESERVED, counted
// in the partial index orders_in_flight, so its cost does not grow with the orders table.
func (r *SQLiteRepository) CountInFlight(ctx context.Context) (int, error) {
	var n int
	err := r.store.Reads.QueryRowContext(ctx, countInFlightSQL).Scan(&n)
	return n, err
}

// CountInFlightCheaply implements app.InFlightRecounter: the count always reads the index.
func (r *SQLiteRepository) CountInFlightCheaply(ctx context.Context) (int, bool, error) {
	n, err := r.CountInFlight(ctx)
	return n, err == nil, err
}

// countInFlightSQL names the statuses as the index's WHERE clause does: SQLite uses a partial
// index only for a query whose WHERE implies the index's, and with the statuses as parameters
// it scanned the whole table.
const countInFlightSQL = `SELECT COUNT(*) FROM orders WHERE status IN ('PENDING', 'RESERVED')`

// CountInFlight implements app.InFlightCounter: the orders still PENDING or RESERVED, counted
// in the sparse in-flight index (dynamodb_deadline.go), which holds only those, so its cost does
// not grow with the orders table. Scanning the table instead took longer than the client's
// attempts allow on a stack that had run for a while, and order-service could not start. The
// index is eventually consistent: an order written the moment before may be missed, as it may
// be by any count taken while orders arrive. Without the index the table is scanned.
func (r *DynamoDBRepository) CountInFlight(ctx context.Context) (int, error) {
	n, indexed, err := r.CountInFlightCheaply(ctx)
	if err != nil || indexed {
		return n, err
	}
	return r.countInFlightByScan(ctx)
}

// CountInFlightCheaply implements app.InFlightRecounter: CountInFlight in the in-flight index,
// or false while the table has none ready, as the scan in its place reads the whole table.
func (r *DynamoDBRepository) CountInFlightCheaply(ctx context.Context) (int, bool, error) {
	ready, err := r.inFlightReady(ctx)
	if err != nil || !ready {
		return 0, false, err
	}
	n := 0
	for shard := range inFlightShards {
		p := dynamodb.NewQueryPaginator(r.client, &dynamodb.QueryInput{
			TableName:                 aws.String(r.cfg.OrdersTable),
			IndexName:                 aws.String(inFlightIndex),
			Select:                    types.SelectCount,
			KeyConditionExpression:    aws.String("#shard = :shard"),
			ExpressionAttributeNames:  map[string]string{"#shard": inFlightShardAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":shard": &types.AttributeValueMemberS{Value: strconv.Itoa(shard)}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, false, fmt.Errorf("count in %s: %w", inFlightIndex, err)
			}
			n += int(page.Count)
		}
	}
	return n, true, nil
}

// countInFlightByScan is CountInFlight without the index: a counting scan of the whole table.
func (r *DynamoDBRepository) countInFlightByScan(ctx context.Context) (int, error) {
	p := dynamodb.NewScanPaginator(r.client, &dynamodb.ScanInput{
		TableName:                aws.String(r.cfg.OrdersTable),
		Select:                   types.SelectCount,
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("#s IN (:pending, :reserved)"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending":  &types.AttributeValueMemberS{Value: string(domain.StatusPending)},
			":reserved": &types.AttributeValueMemberS{Value: string(domain.StatusReserved)},
		},
	})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int(page.Count)
	}
	return n, nil
}
