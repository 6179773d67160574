package adapters

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// CustomerIndex is the global secondary index of the orders table that ListOrders queries:
// hash key customerId (S), range key createdAtNanos (N), all attributes projected.
const CustomerIndex = "customerId-createdAt"

var (
	customerIndexAttributes = []types.AttributeDefinition{
		{AttributeName: aws.String("customerId"), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String("createdAtNanos"), AttributeType: types.ScalarAttributeTypeN},
	}
	customerIndexKeys = []types.KeySchemaElement{
		{AttributeName: aws.String("customerId"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("createdAtNanos"), KeyType: types.KeyTypeRange},
	}
	customerIndexProjection = &types.Projection{ProjectionType: types.ProjectionTypeAll}
)

// addCustomerIndex makes the orders table be created with CustomerIndex.
func addCustomerIndex(in *dynamodb.CreateTableInput) {
	in.AttributeDefinitions = append(in.AttributeDefinitions, customerIndexAttributes...)
	in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
		IndexName: aws.String(CustomerIndex), KeySchema: customerIndexKeys, Projection: customerIndexProjection,
	})
}

// ensureCustomerIndex asks AWS to add CustomerIndex to an orders table made before ListOrders
// existed, and does not wait: DynamoDB backfills a new index in the background (minutes on a
// large table) while the service serves everything else; ListOrders answers an error until the
// index is ACTIVE. Orders last written before the index carry no createdAtNanos and are not
// listed. Against an emulator (an endpoint override) it adds nothing: DynamoDB Local never
// finishes an index added to an existing table and then fails every write to it, so there an
// old table must be recreated to list orders.
func (r *DynamoDBRepository) ensureCustomerIndex(ctx context.Context) error {
	if r.cfg.Endpoint != "" {
		return nil
	}
	out, err := r.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.cfg.OrdersTable)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", r.cfg.OrdersTable, err)
	}
	for _, gsi := range out.Table.GlobalSecondaryIndexes {
		if aws.ToString(gsi.IndexName) == CustomerIndex {
			return nil
		}
	}
	_, err = r.client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String(r.cfg.OrdersTable),
		AttributeDefinitions: customerIndexAttributes,
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String(CustomerIndex), KeySchema: customerIndexKeys, Projection: customerIndexProjection,
		}}},
	})
	// Another replica starting at the same time may have asked first.
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("add index %s to %s: %w", CustomerIndex, r.cfg.OrdersTable, err)
	}
	return nil
}

// ListOrders implements app.Repository with a Query of CustomerIndex, newest first. The index
// is eventually consistent: an order placed a moment ago may not be listed yet.
func (r *DynamoDBRepository) ListOrders(ctx context.Context, customerID string, limit int, cursor string) ([]domain.Order, string, error) {
	after, err := decodeListCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.cfg.OrdersTable),
		IndexName:                 aws.String(CustomerIndex),
		KeyConditionExpression:    aws.String("customerId = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: customerID}},
		ScanIndexForward:          aws.Bool(false),
		// One more than asked tells whether there is a next page.
		Limit: aws.Int32(int32(limit + 1)),
	}
	if cursor != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"transactionId":  &types.AttributeValueMemberS{Value: after.TransactionID},
			"customerId":     &types.AttributeValueMemberS{Value: customerID},
			"createdAtNanos": &types.AttributeValueMemberN{Value: strconv.FormatInt(after.CreatedAt.UnixNano(), 10)},
		}
	}
	out, err := r.client.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	var items []orderItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("decode orders: %w", err)
	}
	orders := make([]domain.Order, len(items))
	for i, it := range items {
		orders[i] = fromOrderItem(it)
	}
	if len(orders) <= limit {
		return orders, "", nil
	}
	last := orders[limit-1]
	return orders[:limit], listCursor{CreatedAt: last.CreatedAt, TransactionID: last.TransactionID}.encode(), nil
}

// fromOrderItem is the order a DynamoDB item holds.
func fromOrderItem(it orderItem) domain.Order {
	o := domain.Order{
		TransactionID: it.TransactionID, CustomerID: it.CustomerID, PaymentMethod: it.PaymentMethod,
		Items: fromItemRecords(it.Items), Status: domain.Status(it.Status), Reason: it.Reason,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC(), History: fromHistoryRecords(it.History), Version: it.Version,
	}
	if it.Amount != nil {
		o.Amount, o.Currency = *it.Amount, it.Currency
	}
	return o
}
