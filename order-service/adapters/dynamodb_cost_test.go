package adapters

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// BenchmarkDynamoDBLocalCost measures what each kind of call the adapter makes costs DynamoDB
// Local in CPU (its JVM's utime+stime from /proc, reported as jvm-ms/op), with the adapter's
// real item shapes. DynamoDB Local was the real stack's limit, and its CPU per call, unlike
// wall time, does not depend on what else the machine runs. It needs DYNAMODB_ENDPOINT to name
// a DynamoDB Local on this machine (DYNAMODB_LOCAL_PID if the JVM cannot be found by its
// port), and DYNAMODB_COST=1: `make bench` skips it, since it loads the shared emulator for a
// minute. COST_PARALLELISM sets the callers per core (8). Run it with a fixed count, twice (C2
// compiles for ~20 s of CPU after a JVM starts), against an emulator nobody else uses:
//
//	DYNAMODB_COST=1 go test -run '^$' -bench DynamoDBLocalCost -benchtime 2000x -count 2 ./adapters
//
// What it found (DynamoDB Local 3.3.0, -inMemory, warm, ms of JVM CPU per call): GetItem 0.35;
// PutItem of an outbox record 0.37, of an order 0.40 (no index) / 0.55 (in-flight index) /
// 0.60 (both indexes), 0.75 with eight history entries; UpdateItem of the same change 0.76-1.0
// (dearer than PutItem); TransactWriteItems of order + outbox 1.6-1.7 (two PutItems: 1.0), of
// key + order + outbox 1.7-2.1 (ClientRequestToken: within noise), of key + order holding
// its event 1.5; BatchWriteItem delete 0.15 per record, while taking an event out of an order
// item costs an UpdateItem (0.55) or a PartiQL UPDATE in BatchExecuteStatement (0.95 each). The callers' concurrency (2 to 128) changes nothing measurable. With the
// data file (-dbPath) instead of -inMemory, a PutItem costs 1.4-1.5 and TransactWriteItems
// 2.2-3.6. -XX:+UseSerialGC instead of G1 saved ~10% here but not in the stack (6.2 vs 5.5 ms
// per order). An order on the stack makes one TransactWriteItems of three items, one PutItem,
// one TransactWriteItems of two, one GetItem (the client's) and 0.3 relay calls
// (e2e/stack_calls_test.go): ~1.9 + 0.6 + 1.65 + 0.35 + 0.35 = 4.9 ms, as measured on the stack
// (4.8-5.5 ms of JVM CPU per settled order). Each request costs ~0.3 ms before it does anything
// (Jackson parsing and a new mapper per request dominate a profile), and a transaction ~0.6
// more, so the lever is fewer requests and transactions, not smaller items or indexes.
//
// The TWIx cases group n orders' writes in one transaction, as dynamodb_group.go does. Their
// ns/op is wall time per order with the callers at once, and that is what limits the stack:
// DynamoDB Local applies the writes to a table one request at a time under a table lock
// (jstack: the other requests park on it) and each request commits its own SQLite transaction,
// so its JVM CPU alone underrates a request. On 2026-12-06, data file (the stack's), ms per
// order wall / JVM CPU: create+key 7.5 / 7.9 alone, 2.6 / 3.2 in eights, 2.4 / 2.8 in 33s;
// reserved 5.2 / 4.8 alone (as a transaction), 0.7 / 0.65 in 100s; completed 2.7 / 2.5 alone,
// 1.3 / 1.15 in 50s; an outbox delete 1.0-1.1 / 0.6 in a BatchWriteItem of 25 (each record its
// own commit), 0.33-0.43 / 0.3-0.37 in a transaction of 100. In memory, JVM CPU: create 3.63
// alone, 1.26-1.32 grouped; reserved 1.55 -> 0.56-0.58; completed 1.67 -> 0.95-0.99.
func BenchmarkDynamoDBLocalCost(b *testing.B) {
	endpoint := os.Getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" || os.Getenv("DYNAMODB_COST") != "1" {
		b.Skip("DYNAMODB_ENDPOINT and DYNAMODB_COST=1 not set")
	}
	pid := dynamoLocalPID(b, endpoint)
	ctx := context.Background()
	suffix := "-cost-" + uuid.NewString()[:8]
	cfg := DynamoDBConfig{Endpoint: endpoint, Region: "us-east-1", OrdersTable: "orders" + suffix,
		IdempotencyTable: "order-idempotency" + suffix, OutboxTable: "order-outbox" + suffix}
	r, err := NewDynamoDBRepository(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.DeleteTables(context.Background()) })
	// The orders table without indexes, and with only the (keys-only, sparse) in-flight one.
	bare, inFlightOnly := "orders-bare"+suffix, "orders-inflight"+suffix
	if err := r.ensureTable(ctx, bare, "transactionId"); err != nil {
		b.Fatal(err)
	}
	attrs, keys, projection := inFlightIndexDefinition()
	if _, err := r.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              aws.String(inFlightOnly),
		AttributeDefinitions:   append([]types.AttributeDefinition{{AttributeName: aws.String("transactionId"), AttributeType: types.ScalarAttributeTypeS}}, attrs...),
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String("transactionId"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String(inFlightIndex), KeySchema: keys, Projection: projection}},
		BillingMode:            types.BillingModePayPerRequest,
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, t := range []string{bare, inFlightOnly} {
			r.client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(t)})
		}
	})
	orders := cfg.OrdersTable

	put := func(table string, item map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) error {
		in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}
		if cond != "" {
			in.ConditionExpression, in.ExpressionAttributeValues = aws.String(cond), values
		}
		_, err := r.client.PutItem(ctx, in)
		return err
	}
	version := func(v int64) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}}
	}
	// seed writes n PENDING orders to table (not measured) and returns their ids.
	seed := func(table string, n int, history int) []string {
		ids := make([]string, n)
		sem := make(chan struct{}, 16)
		errs := make(chan error, n)
		for i := range ids {
			ids[i] = uuid.NewString()
			sem <- struct{}{}
			go func(id string) {
				defer func() { <-sem }()
				errs <- put(table, costOrder(b, id, history, domain.StatusPending), "", nil)
			}(ids[i])
		}
		for range cap(sem) {
			sem <- struct{}{}
		}
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		return ids
	}
	seedOutbox := func(n int) []string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = uuid.NewString()
			if err := put(cfg.OutboxTable, costOutbox(b, r, ids[i]), "", nil); err != nil {
				b.Fatal(err)
			}
		}
		return ids
	}
	create := func(table string, withKey, token bool) func(*testing.B) func(int) error {
		return func(*testing.B) func(int) error {
			return func(int) error {
				id := uuid.NewString()
				writes := []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String(table), Item: costOrder(b, id, 1, domain.StatusPending), ConditionExpression: aws.String("attribute_not_exists(transactionId)")}},
					{Put: &types.Put{TableName: aws.String(cfg.OutboxTable), Item: costOutbox(b, r, uuid.NewString())}},
				}
				if withKey {
					key, _ := attributevalue.MarshalMap(idempotencyItem{Key: "alice\x00" + id, RequestHash: strings.Repeat("ab", 32), TransactionID: id, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour).Unix()})
					writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(cfg.IdempotencyTable), Item: key,
						ConditionExpression:       aws.String("attribute_not_exists(idempotencyKey) OR expiresAt < :now"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: "1"}}}})
				}
				in := &dynamodb.TransactWriteItemsInput{TransactItems: writes}
				if token {
					in.ClientRequestToken = aws.String(id)
				}
				_, err := r.client.TransactWriteItems(ctx, in)
				return err
			}
		}
	}
	// updateTx is the PAYMENT_COMPLETE write: the whole order over its version and an outbox record.
	updateTx := func(table string) func(*testing.B) func(int) error {
		return func(b *testing.B) func(int) error {
			ids := seed(table, b.N, 1)
			return func(i int) error {
				_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String(table), Item: costOrder(b, ids[i], 3, domain.StatusCompleted), ConditionExpression: aws.String("version = :read"), ExpressionAttributeValues: version(1)}},
					{Put: &types.Put{TableName: aws.String(cfg.OutboxTable), Item: costOutbox(b, r, uuid.NewString())}},
				}})
				return err
			}
		}
	}
	putOver := func(table string, history int, status domain.Status, cond bool) func(*testing.B) func(int) error {
		return func(b *testing.B) func(int) error {
			ids := seed(table, b.N, 1)
			return func(i int) error {
				if !cond {
					return put(table, costOrder(b, ids[i], history, status), "", nil)
				}
				return put(table, costOrder(b, ids[i], history, status), "version = :read", version(1))
			}
		}
	}
	putNew := func(table string, history int, withEvents bool) func(*testing.B) func(int) error {
		return func(*testing.B) func(int) error {
			return func(int) error {
				id := uuid.NewString()
				item := costOrder(b, id, history, domain.StatusPending)
				if withEvents {
					item["outbox"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: costOutbox(b, r, uuid.NewString())}}}
				}
				return put(table, item, "attribute_not_exists(transactionId)", nil)
			}
		}
	}
	// updateItem is the ITEM_RESERVED write as an UpdateItem of the attributes that change.
	updateItem := func(table string, terminal bool) func(*testing.B) func(int) error {
		return func(b *testing.B) func(int) error {
			ids := seed(table, b.N, 1)
			expr := "SET #s = :s, version = :v, updatedAt = :u, history = list_append(history, :h), amount = :a, currency = :c"
			if terminal {
				expr += " REMOVE inFlightShard, inFlightSince"
			}
			h, _ := attributevalue.Marshal([]historyRecord{{EventID: uuid.NewString(), Type: string(event.TypeItemReserved), At: time.Now(), Applied: true}})
			return func(i int) error {
				_, err := r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: ids[i]}},
					UpdateExpression:         aws.String(expr),
					ConditionExpression:      aws.String("version = :read"),
					ExpressionAttributeNames: map[string]string{"#s": "status"},
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":read": &types.AttributeValueMemberN{Value: "1"}, ":v": &types.AttributeValueMemberN{Value: "2"},
						":s": &types.AttributeValueMemberS{Value: "RESERVED"}, ":u": &types.AttributeValueMemberS{Value: time.Now().Format(timeFormat)},
						":h": h, ":a": &types.AttributeValueMemberN{Value: "100"}, ":c": &types.AttributeValueMemberS{Value: "EUR"},
					},
				})
				return err
			}
		}
	}

	// grouped runs every n-th call as one TransactWriteItems holding the writes of n orders
	// (writes(i) for each), so jvm-ms/op is per order: what a group commit of the orders
	// waiting at once would cost.
	grouped := func(n int, writes func(b *testing.B) func(i int) []types.TransactWriteItem) func(*testing.B) func(int) error {
		return func(b *testing.B) func(int) error {
			w := writes(b)
			return func(i int) error {
				if i%n != 0 {
					return nil
				}
				var all []types.TransactWriteItem
				for j := i; j < min(i+n, b.N); j++ {
					all = append(all, w(j)...)
				}
				_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: all})
				return err
			}
		}
	}
	createWrites := func(*testing.B) func(int) []types.TransactWriteItem {
		return func(int) []types.TransactWriteItem {
			id := uuid.NewString()
			key, _ := attributevalue.MarshalMap(idempotencyItem{Key: "alice\x00" + id, RequestHash: strings.Repeat("ab", 32), TransactionID: id, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour).Unix()})
			return []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String(orders), Item: costOrder(b, id, 1, domain.StatusPending), ConditionExpression: aws.String("attribute_not_exists(transactionId)")}},
				{Put: &types.Put{TableName: aws.String(cfg.OutboxTable), Item: costOutbox(b, r, uuid.NewString())}},
				{Put: &types.Put{TableName: aws.String(cfg.IdempotencyTable), Item: key,
					ConditionExpression:       aws.String("attribute_not_exists(idempotencyKey) OR expiresAt < :now"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: "1"}}}},
			}
		}
	}
	reservedWrites := func(b *testing.B) func(int) []types.TransactWriteItem {
		ids := seed(orders, b.N, 1)
		return func(i int) []types.TransactWriteItem {
			return []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(orders), Item: costOrder(b, ids[i], 2, domain.StatusReserved), ConditionExpression: aws.String("version = :read"), ExpressionAttributeValues: version(1)}}}
		}
	}
	completedWrites := func(b *testing.B) func(int) []types.TransactWriteItem {
		ids := seed(orders, b.N, 1)
		return func(i int) []types.TransactWriteItem {
			return []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String(orders), Item: costOrder(b, ids[i], 3, domain.StatusCompleted), ConditionExpression: aws.String("version = :read"), ExpressionAttributeValues: version(1)}},
				{Put: &types.Put{TableName: aws.String(cfg.OutboxTable), Item: costOutbox(b, r, uuid.NewString())}},
			}
		}
	}

	cases := []struct {
		name string
		op   func(*testing.B) func(i int) error
	}{
		{"GetItem/order", func(b *testing.B) func(int) error {
			ids := seed(orders, b.N, 3)
			return func(i int) error {
				_, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(orders), ConsistentRead: aws.Bool(true),
					Key: map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: ids[i]}}})
				return err
			}
		}},
		{"PutItem/outbox", func(*testing.B) func(int) error {
			return func(int) error { return put(cfg.OutboxTable, costOutbox(b, r, uuid.NewString()), "", nil) }
		}},
		{"PutItem/new/gsi=none", putNew(bare, 1, false)},
		{"PutItem/new/gsi=inflight", putNew(inFlightOnly, 1, false)},
		{"PutItem/new/gsi=both", putNew(orders, 1, false)},
		{"PutItem/new+event/gsi=both", putNew(orders, 1, true)},
		{"PutItem/new+event/gsi=none", putNew(bare, 1, true)},
		{"PutItem/reserved/gsi=none", putOver(bare, 2, domain.StatusReserved, true)},
		{"PutItem/reserved/gsi=inflight", putOver(inFlightOnly, 2, domain.StatusReserved, true)},
		{"PutItem/reserved/gsi=both", putOver(orders, 2, domain.StatusReserved, true)},
		{"PutItem/reserved/gsi=both/nocond", putOver(orders, 2, domain.StatusReserved, false)},
		{"PutItem/reserved/gsi=both/history=8", putOver(orders, 8, domain.StatusReserved, true)},
		{"PutItem/completed/gsi=both", putOver(orders, 3, domain.StatusCompleted, true)},
		{"UpdateItem/reserved/gsi=both", updateItem(orders, false)},
		{"UpdateItem/reserved/gsi=none", updateItem(bare, false)},
		{"UpdateItem/terminal/gsi=both", updateItem(orders, true)},
		{"TWI3/create+key/token/gsi=both", create(orders, true, true)},
		{"TWI3/create+key/gsi=both", create(orders, true, false)},
		{"TWI2/create/gsi=both", create(orders, false, false)},
		{"TWI2/create/gsi=none", create(bare, false, false)},
		{"TWI2/completed/gsi=both", updateTx(orders)},
		{"TWI2/completed/gsi=none", updateTx(bare)},
		// The shapes of an outbox kept inside the order item: the key and the order with its
		// event in one transaction, and the relay taking the event out again.
		{"TWI2/create+key,event-in-order/gsi=both", func(*testing.B) func(int) error {
			return func(int) error {
				id := uuid.NewString()
				order := costOrder(b, id, 1, domain.StatusPending)
				order["outbox"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: costOutbox(b, r, uuid.NewString())}}}
				key, _ := attributevalue.MarshalMap(idempotencyItem{Key: "alice\x00" + id, RequestHash: strings.Repeat("ab", 32), TransactionID: id, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour).Unix()})
				_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String(orders), Item: order, ConditionExpression: aws.String("attribute_not_exists(transactionId)")}},
					{Put: &types.Put{TableName: aws.String(cfg.IdempotencyTable), Item: key, ConditionExpression: aws.String("attribute_not_exists(idempotencyKey)")}},
				}})
				return err
			}
		}},
		{"UpdateItem/remove-event/gsi=both", func(b *testing.B) func(int) error {
			ids := seed(orders, b.N, 2)
			return func(i int) error {
				_, err := r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(orders), Key: map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: ids[i]}},
					UpdateExpression: aws.String("REMOVE outbox"), ConditionExpression: aws.String("version = :read"), ExpressionAttributeValues: version(1),
				})
				return err
			}
		}},
		{"BatchExecuteStatement/remove-event25(per item)/gsi=both", func(b *testing.B) func(int) error {
			ids := seed(orders, b.N, 2)
			stmt := aws.String(fmt.Sprintf(`UPDATE "%s" REMOVE outbox WHERE transactionId = ? AND version = ?`, orders))
			return func(i int) error {
				if i%25 != 0 {
					return nil
				}
				var stmts []types.BatchStatementRequest
				for _, id := range ids[i:min(i+25, len(ids))] {
					stmts = append(stmts, types.BatchStatementRequest{Statement: stmt, Parameters: []types.AttributeValue{
						&types.AttributeValueMemberS{Value: id}, &types.AttributeValueMemberN{Value: "1"}}})
				}
				out, err := r.client.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: stmts})
				if err == nil && out.Responses[0].Error != nil {
					err = fmt.Errorf("%s", aws.ToString(out.Responses[0].Error.Message))
				}
				return err
			}
		}},
		{"TWIx1/create+key(per order)", grouped(1, createWrites)},
		{"TWIx8/create+key(per order)", grouped(8, createWrites)},
		{"TWIx33/create+key(per order)", grouped(33, createWrites)},
		{"TWIx1/reserved(per order)", grouped(1, reservedWrites)},
		{"TWIx25/reserved(per order)", grouped(25, reservedWrites)},
		{"TWIx100/reserved(per order)", grouped(100, reservedWrites)},
		{"TWIx1/completed(per order)", grouped(1, completedWrites)},
		{"TWIx10/completed(per order)", grouped(10, completedWrites)},
		{"TWIx50/completed(per order)", grouped(50, completedWrites)},
		{"TWIx100/delete-outbox(per item)", grouped(100, func(b *testing.B) func(int) []types.TransactWriteItem {
			ids := seedOutbox(b.N)
			return func(i int) []types.TransactWriteItem {
				return []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(cfg.OutboxTable),
					Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: ids[i]}}}}}
			}
		})},
		{"BatchWriteItem/delete25(per item)", func(b *testing.B) func(int) error {
			ids := seedOutbox(b.N)
			return func(i int) error {
				if i%25 != 0 {
					return nil
				}
				return r.deleteOutbox(ctx, ids[i:min(i+25, len(ids))])
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			op := c.op(b)
			var next atomic.Int64
			next.Store(-1)
			settleJVM(b, pid)
			before := jvmCPU(b, pid)
			b.ResetTimer()
			b.SetParallelism(costParallelism(b))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(int(next.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			settleJVM(b, pid)
			b.ReportMetric(float64(jvmCPU(b, pid)-before)/float64(time.Millisecond)/float64(b.N), "jvm-ms/op")
		})
	}
}

// costParallelism is the goroutines per GOMAXPROCS that call at once: COST_PARALLELISM, or 8
// (16 callers on two cores, about what order-service's consumer lanes and relay keep in flight).
func costParallelism(b *testing.B) int {
	p := 8
	if s := os.Getenv("COST_PARALLELISM"); s != "" {
		var err error
		if p, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// costOrder is an order item as toOrderItem writes it, with history events.
func costOrder(b *testing.B, id string, history int, status domain.Status) map[string]types.AttributeValue {
	o, err := domain.NewOrder(id, "customer-"+id[:4], []domain.Item{{SKU: "SKU-1001", Quantity: 1}}, "pm_card_visa", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for len(o.History) < history {
		o.History = append(o.History, domain.HistoryEntry{EventID: uuid.NewString(), Type: event.TypeItemReserved, At: time.Now(), Applied: true})
	}
	o.Status = status
	if status != domain.StatusPending {
		o.Amount, o.Currency = 1999, "USD"
	}
	item, err := toOrderItem(o, 1)
	if err != nil {
		b.Fatal(err)
	}
	return item
}

// costOutbox is an ORDER_CREATE outbox record as CreateOrder writes it.
func costOutbox(b *testing.B, r *DynamoDBRepository, id string) map[string]types.AttributeValue {
	data := `{"transactionId":"` + id + `","customerId":"customer-1","items":[{"sku":"SKU-1001","quantity":1}],"paymentMethod":"pm_card_visa"}`
	item, err := attributevalue.MarshalMap(outboxItem{ID: id, Topic: "inventory", EventKey: id, EventID: id, EventType: string(event.TypeOrderCreate),
		Source: "order-service", EventTime: time.Now(), Data: data, CreatedAt: time.Now().UnixNano(),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ClaimOwner: r.owner, ClaimUntil: r.preClaim()})
	if err != nil {
		b.Fatal(err)
	}
	return item
}

// dynamoLocalPID finds the DynamoDB Local JVM serving endpoint: DYNAMODB_LOCAL_PID, or the
// java process whose command line runs DynamoDBLocal.jar with -port of endpoint.
func dynamoLocalPID(b *testing.B, endpoint string) int {
	if s := os.Getenv("DYNAMODB_LOCAL_PID"); s != "" {
		pid, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return pid
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		b.Fatal(err)
	}
	port := u.Port()
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		cmd, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(cmd, []byte("DynamoDBLocal.jar")) {
			continue
		}
		args := strings.Split(string(cmd), "\x00")
		for i, a := range args {
			if a == "-port" && i+1 < len(args) && args[i+1] == port {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
				return pid
			}
		}
	}
	b.Skipf("no DynamoDB Local JVM with -port %s on this machine (set DYNAMODB_LOCAL_PID)", port)
	return 0
}

// jvmCPU is the CPU time pid has used (user + system).
func jvmCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// settleJVM waits until the JVM is idle (what it queued is written, its GC is done), at most
// 3 s, so one case's tail is not billed to the next.
func settleJVM(b *testing.B, pid int) {
	last := jvmCPU(b, pid)
	for i := 0; i < 30; i++ {
		time.Sleep(100 * time.Millisecond)
		now := jvmCPU(b, pid)
		if now-last <= 10*time.Millisecond {
			return
		}
		last = now
	}
}
