package adapters

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
)

var (
	_ app.InFlightCounter = (*SQLiteRepository)(nil)
	_ app.InFlightCounter = (*DynamoDBRepository)(nil)
)

// CountInFlight implements app.InFlightCounter: the orders still PENDING or RESERVED.
func (r *SQLiteRepository) CountInFlight(ctx context.Context) (int, error) {
	var n int
	err := r.store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status IN (?, ?)`, domain.StatusPending, domain.StatusReserved).Scan(&n)
	return n, err
}

// CountInFlight implements app.InFlightCounter: the orders still PENDING or RESERVED. It scans
// the orders table (counting only, strongly consistent), so order-service calls it once, at
// start; its cost grows with the size of the table.
func (r *DynamoDBRepository) CountInFlight(ctx context.Context) (int, error) {
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
