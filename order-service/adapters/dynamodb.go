package adapters

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// DynamoDBConfig says where the tables are. Credentials come from the SDK's default chain
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles), never from here.
type DynamoDBConfig struct {
	// Endpoint overrides the AWS endpoint (LocalStack, DynamoDB Local); empty for AWS itself.
	Endpoint         string
	Region           string
	OrdersTable      string // hash key transactionId (S)
	IdempotencyTable string // hash key idempotencyKey (S)
	OutboxTable      string // hash key id (S)
	// KeyRetention is how long an idempotency key is kept: its item carries expiresAt (Unix
	// seconds), the table's TTL attribute, and an expired key no longer counts.
	// config.DefaultDedupRetention when zero.
	KeyRetention time.Duration
	// NoBundles stops grouped writes from storing their outbox records as one bundle item
	// (dynamodb_outbox_bundle.go); bundles already stored are still read. A replica built
	// before bundles cannot read them: switch them off, let the outbox drain, then roll back.
	NoBundles bool
}

// DynamoDBConfigFromEnv reads DYNAMODB_ENDPOINT, AWS_REGION (default us-east-1), ORDERS_TABLE
// (orders), IDEMPOTENCY_TABLE (order-idempotency), OUTBOX_TABLE (order-outbox),
// DEDUP_RETENTION (config.DedupRetention) and OUTBOX_BUNDLES (on; off, false or 0 sets
// NoBundles).
func DynamoDBConfigFromEnv() DynamoDBConfig {
	return DynamoDBConfig{
		Endpoint:         config.String("DYNAMODB_ENDPOINT", ""),
		Region:           config.String("AWS_REGION", "us-east-1"),
		OrdersTable:      config.String("ORDERS_TABLE", "orders"),
		IdempotencyTable: config.String("IDEMPOTENCY_TABLE", "order-idempotency"),
		OutboxTable:      config.String("OUTBOX_TABLE", "order-outbox"),
		KeyRetention:     config.DedupRetention(),
		NoBundles:        slices.Contains([]string{"off", "false", "0"}, config.String("OUTBOX_BUNDLES", "on")),
	}
}

// DynamoDBRepository is the production app.Repository: an order, its outbox record and its
// idempotency key are written in one TransactWriteItems; updates are conditional on a version
// attribute.
type DynamoDBRepository struct {
	client   *dynamodb.Client
	cfg      DynamoDBConfig
	inFlight *inFlightState // see dynamodb_deadline.go
	// writes groups the order writes that wait at once (dynamodb_group.go).
	writes *writeGroup
	// owner names this process's outbox claims, which last lease.
	owner string
	lease time.Duration
}

var _ app.Repository = (*DynamoDBRepository)(nil)

// idleConns is how many idle connections to DynamoDB the client keeps.
const idleConns = 128

// DynamoDB client bounds. A call tries at most dynamoAttempts times, each attempt (an HTTP
// request, connecting included) for at most dynamoAttemptTimeout, with at most
// dynamoMaxBackoff between them: 3·2.5 s + 2·0.5 s = 8.5 s, inside kafka.DefaultHandlerTimeout
// (10 s), so a DynamoDB that stops answering fails the store call and the consumer retries the
// event with its own backoff. The SDK's default (20 s backoff, no per-attempt timeout) could
// hold a call, and its partition, until the handler timeout cancelled it.
const (
	dynamoAttempts       = 3
	dynamoAttemptTimeout = 2500 * time.Millisecond
	dynamoDialTimeout    = time.Second
	dynamoMaxBackoff     = 500 * time.Millisecond
)

// NewDynamoDBRepository connects to DynamoDB and creates any of the three tables that is
// missing (on-demand billing), waiting until they are ACTIVE.
func NewDynamoDBRepository(ctx context.Context, cfg DynamoDBConfig) (*DynamoDBRepository, error) {
	client, err := newDynamoDBClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.KeyRetention <= 0 {
		cfg.KeyRetention = config.DefaultDedupRetention
	}
	hashKeys := map[string]string{cfg.OrdersTable: "transactionId", cfg.IdempotencyTable: "idempotencyKey", cfg.OutboxTable: "id"}
	bundled := cfg.OutboxTable
	if cfg.NoBundles {
		bundled = "" // no put is an outbox record to bundle
	}
	r := &DynamoDBRepository{client: client, cfg: cfg, inFlight: &inFlightState{}, owner: outbox.NewOwner(), lease: outbox.Lease,
		writes: newWriteGroup(client, hashKeys, bundled)}
	if err := r.createOrdersTable(ctx); err != nil {
		return nil, err
	}
	for table, key := range hashKeys {
		if err := r.ensureTable(ctx, table, key); err != nil {
			return nil, err
		}
	}
	if err := r.ensureTTL(ctx, cfg.IdempotencyTable, "expiresAt"); err != nil {
		return nil, err
	}
	if err := r.ensureCustomerIndex(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// ensureTTL makes DynamoDB delete the items of table once the Unix time in attribute passed.
func (r *DynamoDBRepository) ensureTTL(ctx context.Context, table, attribute string) error {
	out, err := r.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("describe time to live of %s: %w", table, err)
	}
	if d := out.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attribute &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = r.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attribute), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable time to live on %s: %w", table, err)
	}
	return nil
}

// PurgeIdempotencyKeys implements app.Repository: DynamoDB deletes expired keys itself (TTL),
// and an expired key that is still there no longer counts.
func (r *DynamoDBRepository) PurgeIdempotencyKeys(context.Context, time.Duration) (int, error) {
	return 0, nil
}

// ensureTable creates table with a string hash key unless it exists, and waits until ACTIVE.
func (r *DynamoDBRepository) ensureTable(ctx context.Context, table, hashKey string) error {
	_, err := r.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(hashKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(hashKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(r.client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}

// DeleteTables drops the three tables; tests use it to clean up after themselves.
func (r *DynamoDBRepository) DeleteTables(ctx context.Context) error {
	var errs []error
	for _, t := range []string{r.cfg.OrdersTable, r.cfg.IdempotencyTable, r.cfg.OutboxTable} {
		if _, err := r.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(t)}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Ping reports whether the orders table can be reached.
func (r *DynamoDBRepository) Ping(ctx context.Context) error {
	_, err := r.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.cfg.OrdersTable)})
	return err
}

// orderItem is an order as a DynamoDB item.
type orderItem struct {
	TransactionID string          `dynamodbav:"transactionId"`
	CustomerID    string          `dynamodbav:"customerId"`
	PaymentMethod string          `dynamodbav:"paymentMethod"`
	Items         []itemRecord    `dynamodbav:"items"`
	Status        string          `dynamodbav:"status"`
	Reason        string          `dynamodbav:"reason,omitempty"`
	Amount        *int64          `dynamodbav:"amount,omitempty"`
	Currency      string          `dynamodbav:"currency,omitempty"`
	CreatedAt     time.Time       `dynamodbav:"createdAt"`
	UpdatedAt     time.Time       `dynamodbav:"updatedAt"`
	History       []historyRecord `dynamodbav:"history"`
	Version       int64           `dynamodbav:"version"`
	// CreatedAtNanos is the sort key of the customer index (dynamodb_list.go): createdAt
	// itself is RFC 3339 text, which does not sort by time.
	CreatedAtNanos int64 `dynamodbav:"createdAtNanos"`
}

func toOrderItem(o domain.Order, version int64) (map[string]types.AttributeValue, error) {
	it := orderItem{
		TransactionID: o.TransactionID, CustomerID: o.CustomerID, PaymentMethod: o.PaymentMethod,
		Items: toItemRecords(o.Items), Status: string(o.Status), Reason: o.Reason,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), History: toHistoryRecords(o.History), Version: version,
		CreatedAtNanos: o.CreatedAt.UnixNano(),
	}
	if o.AmountKnown() {
		it.Amount, it.Currency = aws.Int64(o.Amount), o.Currency
	}
	av, err := attributevalue.MarshalMap(it)
	if err == nil {
		markInFlight(av, o)
	}
	return av, err
}

// idempotencyItem is an idempotency key as a DynamoDB item.
type idempotencyItem struct {
	Key           string    `dynamodbav:"idempotencyKey"`
	RequestHash   string    `dynamodbav:"requestHash"`
	TransactionID string    `dynamodbav:"transactionId"`
	CreatedAt     time.Time `dynamodbav:"createdAt"`
	// ExpiresAt (Unix seconds) is the table's TTL attribute.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// outboxItem is an outbox record as a DynamoDB item. CreatedAt (Unix nanoseconds) orders the
// records, since a Scan returns them in hash order.
type outboxItem struct {
	ID        string    `dynamodbav:"id"`
	Topic     string    `dynamodbav:"topic"`
	EventKey  string    `dynamodbav:"eventKey"`
	EventID   string    `dynamodbav:"eventId"`
	EventType string    `dynamodbav:"eventType"`
	Source    string    `dynamodbav:"source"`
	EventTime time.Time `dynamodbav:"eventTime"`
	Data      string    `dynamodbav:"data"`
	CreatedAt int64     `dynamodbav:"createdAt"`
	// TraceParent and TraceState continue the trace of the request that stored the record;
	// records written before tracing have none.
	TraceParent string `dynamodbav:"traceparent,omitempty"`
	TraceState  string `dynamodbav:"tracestate,omitempty"`
	// ClaimOwner names the relay that holds the record until ClaimUntil (Unix milliseconds):
	// replicas share the outbox (dynamodb_outbox_claim.go). The writer's relay holds a record
	// from the start (preClaim).
	ClaimOwner string `dynamodbav:"claimOwner,omitempty"`
	ClaimUntil int64  `dynamodbav:"claimUntil,omitempty"`
	// Records are the records of a bundle (dynamodb_outbox_bundle.go), whose own fields above
	// are only its id, createdAt and claim.
	Records []outboxItem `dynamodbav:"records,omitempty"`
}

// CreateOrder implements app.Repository.
func (r *DynamoDBRepository) CreateOrder(ctx context.Context, o domain.Order, msg kafka.Message, key app.IdempotencyKey) (app.IdempotencyKey, error) {
	now := time.Now().UTC()
	var writes []types.TransactWriteItem
	if key.Key != "" {
		item, err := attributevalue.MarshalMap(idempotencyItem{Key: key.Key, RequestHash: key.RequestHash, TransactionID: key.TransactionID,
			CreatedAt: now, ExpiresAt: now.Add(r.cfg.KeyRetention).Unix()})
		if err != nil {
			return app.IdempotencyKey{}, err
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(r.cfg.IdempotencyTable),
			Item:      item,
			// TTL deletes an expired key within days; until then it must not count.
			ConditionExpression:                 aws.String("attribute_not_exists(idempotencyKey) OR expiresAt < :now"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	orderAV, err := toOrderItem(o, o.Version)
	if err != nil {
		return app.IdempotencyKey{}, err
	}
	msg = kafka.StampTrace(ctx, msg)
	e := msg.Event
	outboxAV, err := attributevalue.MarshalMap(outboxItem{
		ID: e.ID, Topic: msg.Topic, EventKey: e.Key, EventID: e.ID, EventType: string(e.Type),
		Source: e.Source, EventTime: e.Time.UTC(), Data: string(e.Data), CreatedAt: now.UnixNano(),
		TraceParent: msg.TraceParent, TraceState: msg.TraceState,
		ClaimOwner: r.owner, ClaimUntil: r.preClaim(),
	})
	if err != nil {
		return app.IdempotencyKey{}, err
	}
	writes = append(writes,
		types.TransactWriteItem{Put: &types.Put{
			TableName:           aws.String(r.cfg.OrdersTable),
			Item:                orderAV,
			ConditionExpression: aws.String("attribute_not_exists(transactionId)"),
		}},
		types.TransactWriteItem{Put: &types.Put{TableName: aws.String(r.cfg.OutboxTable), Item: outboxAV}},
	)

	// A concurrent request with the same key makes the transaction fail with
	// TransactionConflict; the retry then sees the key it wrote.
	for attempt := 0; ; attempt++ {
		// The token makes an SDK retry of a transaction that did commit succeed instead of
		// failing on its own conditions.
		err = r.writes.write(ctx, writes, func(ctx context.Context) error {
			_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes, ClientRequestToken: aws.String(o.TransactionID)})
			return err
		})
		var cancelled *types.TransactionCanceledException
		if err == nil || !errors.As(err, &cancelled) {
			return app.IdempotencyKey{}, err
		}
		reasons := cancelled.CancellationReasons
		if key.Key != "" && len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return r.storedKey(ctx, key.Key, reasons[0].Item)
		}
		if attempt == 3 || !slices.ContainsFunc(reasons, func(c types.CancellationReason) bool { return aws.ToString(c.Code) == "TransactionConflict" }) {
			return app.IdempotencyKey{}, fmt.Errorf("create order %s: %w", o.TransactionID, err)
		}
		select {
		case <-ctx.Done():
			return app.IdempotencyKey{}, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
}

// storedKey returns the recorded idempotency key with ErrIdempotencyKeyExists, from the item
// the failed condition returned or, if the store did not return it, from a consistent read.
func (r *DynamoDBRepository) storedKey(ctx context.Context, key string, item map[string]types.AttributeValue) (app.IdempotencyKey, error) {
	if item == nil {
		out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(r.cfg.IdempotencyTable),
			Key:            map[string]types.AttributeValue{"idempotencyKey": &types.AttributeValueMemberS{Value: key}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return app.IdempotencyKey{}, fmt.Errorf("read idempotency key: %w", err)
		}
		item = out.Item
	}
	var stored idempotencyItem
	if err := attributevalue.UnmarshalMap(item, &stored); err != nil {
		return app.IdempotencyKey{}, err
	}
	return app.IdempotencyKey{Key: stored.Key, RequestHash: stored.RequestHash, TransactionID: stored.TransactionID}, app.ErrIdempotencyKeyExists
}

// GetOrder implements app.Repository.
func (r *DynamoDBRepository) GetOrder(ctx context.Context, transactionID string) (domain.Order, error) {
	out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(r.cfg.OrdersTable),
		Key:            map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: transactionID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Order{}, err
	}
	if out.Item == nil {
		return domain.Order{}, app.ErrNotFound
	}
	var it orderItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Order{}, fmt.Errorf("decode order %s: %w", transactionID, err)
	}
	o := domain.Order{
		TransactionID: it.TransactionID, CustomerID: it.CustomerID, PaymentMethod: it.PaymentMethod,
		Items: fromItemRecords(it.Items), Status: domain.Status(it.Status), Reason: it.Reason,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC(), History: fromHistoryRecords(it.History), Version: it.Version,
	}
	if it.Amount != nil {
		o.Amount, o.Currency = *it.Amount, it.Currency
	}
	return o, nil
}

// UpdateOrder implements app.Repository.
func (r *DynamoDBRepository) UpdateOrder(ctx context.Context, o domain.Order, msgs ...kafka.Message) error {
	item, err := toOrderItem(o, o.Version+1)
	if err != nil {
		return err
	}
	if len(msgs) > 0 {
		return r.updateOrderWithOutbox(ctx, o, item, msgs)
	}
	put := &types.Put{
		TableName:                 aws.String(r.cfg.OrdersTable),
		Item:                      item,
		ConditionExpression:       aws.String("version = :read"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: fmt.Sprint(o.Version)}},
	}
	err = r.writes.write(ctx, []types.TransactWriteItem{{Put: put}}, func(ctx context.Context) error {
		_, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues})
		return err
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return app.ErrConflict
	}
	return err
}

// PendingOutbox implements outbox.Store. It scans at most limit items that no other replica
// holds, sorts them by createdAt, keeps the oldest until they hold limit records (a bundle,
// dynamodb_outbox_bundle.go, whole: the last may pass limit by its size), claims those
// (dynamodb_outbox_claim.go) and returns their records. The outbox is small (records live
// until the relay publishes them), so "oldest first within the page" is enough.
func (r *DynamoDBRepository) PendingOutbox(ctx context.Context, limit int) ([]outbox.Record, error) {
	now := time.Now()
	items, err := r.scanClaimable(ctx, limit, now)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	slices.SortFunc(items, func(a, b outboxItem) int { return cmp.Compare(a.CreatedAt, b.CreatedAt) })
	// Claim only what this read returns, so that a relay does not hold records it will not
	// publish while other replicas idle.
	held := 0
	for i, item := range items {
		if held >= limit {
			items = items[:i]
			break
		}
		held += max(1, len(item.Records))
	}
	if items, err = r.claim(ctx, items, now); err != nil {
		return nil, fmt.Errorf("claim outbox records: %w", err)
	}
	var records []outbox.Record
	for _, item := range items {
		for _, it := range item.expand() {
			records = append(records, outbox.Record{ID: it.ID, Message: kafka.Message{Topic: it.Topic, Event: event.Event{
				ID: it.EventID, Type: event.Type(it.EventType), Source: it.Source, Time: it.EventTime.UTC(),
				Key: it.EventKey, Data: json.RawMessage(it.Data),
			}, TraceParent: it.TraceParent, TraceState: it.TraceState}})
		}
	}
	return records, nil
}

// DeleteOutbox implements outbox.Store: up to maxGroupItems records per TransactWriteItems,
// sent through the write group, so that deletes share a transaction with the writes waiting
// beside them and go out no more than groupSends requests at once. DynamoDB Local commits each
// record of a BatchWriteItem on its own (1.0-1.1 ms of its table lock per record, against
// 0.33-0.43 ms in a transaction of 100: BenchmarkDynamoDBLocalCost).
//
// A bundle is deleted once ids hold all its records, and left otherwise (outboxItemIDs).
func (r *DynamoDBRepository) DeleteOutbox(ctx context.Context, ids []string) error {
	ids = outboxItemIDs(ids)
	errs := make(chan error, (len(ids)+maxGroupItems-1)/maxGroupItems)
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(ids, maxGroupItems) {
		wg.Go(func() { errs <- r.deleteOutboxTransaction(ctx, chunk) })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// deleteOutboxTransaction deletes chunk in one transaction. Deletes have no condition, so only
// a transaction on the same records at the same moment cancels it (another replica claiming
// them); then they are deleted 25 at a time with BatchWriteItem instead.
func (r *DynamoDBRepository) deleteOutboxTransaction(ctx context.Context, chunk []string) error {
	deletes := make([]types.TransactWriteItem, len(chunk))
	for i, id := range chunk {
		deletes[i] = types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(r.cfg.OutboxTable),
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}}}
	}
	return r.writes.write(ctx, deletes, func(ctx context.Context) error {
		_, err := r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: deletes})
		var cancelled *types.TransactionCanceledException
		if !errors.As(err, &cancelled) {
			return err
		}
		var all []error
		for part := range slices.Chunk(chunk, 25) {
			all = append(all, r.deleteOutbox(ctx, part))
		}
		return errors.Join(all...)
	})
}

// deleteOutbox deletes up to 25 records with one BatchWriteItem, and again what it left.
func (r *DynamoDBRepository) deleteOutbox(ctx context.Context, chunk []string) error {
	deletes := make([]types.WriteRequest, len(chunk))
	for i, id := range chunk {
		deletes[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		}}
	}
	pending := map[string][]types.WriteRequest{r.cfg.OutboxTable: deletes}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 8 {
			return fmt.Errorf("delete outbox records: %d left unprocessed", len(pending[r.cfg.OutboxTable]))
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(1<<attempt) * 25 * time.Millisecond):
			}
		}
		out, err := r.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("delete outbox records: %w", err)
		}
		pending = out.UnprocessedItems
	}
	return nil
}

// OutboxStats implements outbox.StatsStore: it counts the outbox's records and finds the
// oldest, reading only their createdAt (the outbox holds what the relay has not published yet).
func (r *DynamoDBRepository) OutboxStats(ctx context.Context) (outbox.Stats, error) {
	var stats outbox.Stats
	oldest := int64(0)
	pages := dynamodb.NewScanPaginator(r.client, &dynamodb.ScanInput{
		TableName:            aws.String(r.cfg.OutboxTable),
		ProjectionExpression: aws.String("createdAt, recordCount"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return outbox.Stats{}, err
		}
		var items []struct {
			CreatedAt   int64 `dynamodbav:"createdAt"`
			RecordCount int   `dynamodbav:"recordCount"` // of a bundle; 0 for a plain record
		}
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return outbox.Stats{}, fmt.Errorf("decode outbox: %w", err)
		}
		for _, it := range items {
			if oldest == 0 || it.CreatedAt < oldest {
				oldest = it.CreatedAt
			}
			stats.Pending += max(1, it.RecordCount)
		}
	}
	if stats.Pending > 0 {
		stats.Oldest = time.Unix(0, oldest).UTC()
	}
	return stats, nil
}

// newDynamoDBClient is the DynamoDB client with the repository's connection pool, timeouts,
// retryer and tracing.
func newDynamoDBClient(ctx context.Context, cfg DynamoDBConfig) (*dynamodb.Client, error) {
	// The consumer applies many events at once (kafka.DefaultLanes per partition); with the
	// SDK's default of 10 idle connections, most calls opened a connection of their own.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = idleConns, idleConns
	}).WithTimeout(dynamoAttemptTimeout).WithDialerOptions(func(d *net.Dialer) { d.Timeout = dynamoDialTimeout })
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region), awsconfig.WithHTTPClient(httpClient))
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	// Every call is a child span of the request or event being handled; calls made outside
	// one (relay scans, health checks) record nothing.
	otelaws.AppendMiddlewares(&awsCfg.APIOptions,
		otelaws.WithTracerProvider(telemetry.ParentTracerProvider),
		otelaws.WithTextMapPropagator(telemetry.Propagator),
		otelaws.WithAttributeBuilder(otelaws.DefaultAttributeBuilder, otelaws.DynamoDBAttributeBuilder))
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			// Emulators (DynamoDB Local, LocalStack) send no X-Amz-Crc32 header on error
			// responses, and the SDK then logs a spurious checksum warning for every failed
			// condition (aws-sdk-go-v2 issue 3545).
			o.DisableValidateResponseChecksum = true
		}
		// No retry quota: during an outage the consumer and the relay retry with their own
		// backoff, and a spent quota would only turn attempts into instant failures.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = dynamoAttempts
			so.MaxBackoff = dynamoMaxBackoff
			so.RateLimiter = ratelimit.None
		})
	})
	return client, nil
}
