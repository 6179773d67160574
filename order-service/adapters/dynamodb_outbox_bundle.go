package adapters

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// An outbox bundle is one outbox item that holds the records of every write in a grouped
// transaction (dynamodb_group.go), in the order the writes joined the group. The records still
// commit with their writes, all or none, but the transaction writes one outbox item instead of
// one per record, and the relay deletes one item once it published them all. Each outbox item
// costs DynamoDB Local about as much as an order item (a put ~0.6 ms of its table lock, a
// delete ~0.4 ms, BenchmarkDynamoDBLocalCost), and an order stores two records: bundled, they
// were ~40% of its writes on the stack.
//
// The relay sees a bundle's records as records of their own (PendingOutbox), with ids that
// name the bundle and how many records it held when read (bundleRecordID). DeleteOutbox
// deletes a bundle only when it is given every one of them; a bundle published in part stays,
// and its records go out again on the next read, which consumers drop by ce_id, as they drop
// any record re-sent after a crash. ParkOutbox takes a single record out of its bundle.

const (
	// bundlePrefix starts the id of a bundle item.
	bundlePrefix = "bundle-"
	// maxBundleBytes bounds the records' size in one bundle, well inside DynamoDB's 400 KB per
	// item; the records past it stay items of their own.
	maxBundleBytes = 300_000
	// bundleIDSeparator separates the parts of a bundled record's id. The record's own id
	// comes last, so it may hold the separator too.
	bundleIDSeparator = "#"
)

// bundleOutbox returns items with their outbox puts gathered into one bundle item, placed
// where the first of them was, and for each of items the index in the result that now carries
// it. Fewer than two outbox puts are left as they are.
func bundleOutbox(outboxTable string, items []types.TransactWriteItem) ([]types.TransactWriteItem, []int) {
	at := make([]int, len(items))
	var records []types.AttributeValue
	size, bundleAt, full := 0, -1, false
	out := make([]types.TransactWriteItem, 0, len(items))
	for i, it := range items {
		if !isOutboxPut(outboxTable, it) {
			at[i] = len(out)
			out = append(out, it)
			continue
		}
		n := itemBytes(it.Put.Item)
		// Once one record does not fit, the later ones stay out too, so that the bundle
		// (sorted as its first record) never holds a record written after one left out. The
		// groups takeLocked forms always fit; this only guards.
		if full = full || (len(records) > 0 && size+n > maxBundleBytes); full {
			at[i] = len(out)
			out = append(out, it)
			continue
		}
		if bundleAt < 0 {
			bundleAt = len(out)
			out = append(out, it) // replaced by the bundle below, if a second record joins
		}
		at[i], size = bundleAt, size+n
		records = append(records, &types.AttributeValueMemberM{Value: it.Put.Item})
	}
	if len(records) >= 2 { // one record stays the put it is
		out[bundleAt] = types.TransactWriteItem{Put: &types.Put{TableName: aws.String(outboxTable), Item: bundleItem(records)}}
	}
	return out, at
}

// isOutboxPut reports whether it stores an outbox record (an unconditional put into
// outboxTable): those a group bundles.
func isOutboxPut(outboxTable string, it types.TransactWriteItem) bool {
	return it.Put != nil && it.Put.ConditionExpression == nil && outboxTable != "" && aws.ToString(it.Put.TableName) == outboxTable
}

// bundleItem is the outbox item holding records: it is claimed, and sorted among the other
// outbox items, as its first record is.
func bundleItem(records []types.AttributeValue) map[string]types.AttributeValue {
	first := records[0].(*types.AttributeValueMemberM).Value
	stripped := make([]types.AttributeValue, len(records))
	for i, rec := range records {
		m := maps.Clone(rec.(*types.AttributeValueMemberM).Value)
		delete(m, "claimOwner") // the bundle is claimed, not its records
		delete(m, "claimUntil")
		stripped[i] = &types.AttributeValueMemberM{Value: m}
	}
	item := map[string]types.AttributeValue{
		"id":          &types.AttributeValueMemberS{Value: bundlePrefix + uuid.NewString()},
		"records":     &types.AttributeValueMemberL{Value: stripped},
		"recordCount": &types.AttributeValueMemberN{Value: strconv.Itoa(len(records))},
	}
	for _, k := range []string{"createdAt", "claimOwner", "claimUntil"} {
		if v, ok := first[k]; ok {
			item[k] = v
		}
	}
	return item
}

// itemBytes estimates an item's size as DynamoDB counts it: names and values.
func itemBytes(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueBytes(v)
	}
	return n
}

// valueBytes estimates one attribute value's size as DynamoDB counts it.
func valueBytes(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberM:
		return 3 + itemBytes(v.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueBytes(e)
		}
		return n
	default:
		return 1
	}
}

// bundleRecordID is the id PendingOutbox gives a bundled record: the bundle, how many records
// it held when read, and the record's own id.
func bundleRecordID(bundle string, count int, record string) string {
	return bundle + bundleIDSeparator + strconv.Itoa(count) + bundleIDSeparator + record
}

// parseBundleRecordID splits a bundled record's id; ok is false for the id of a plain record.
func parseBundleRecordID(id string) (bundle string, count int, record string, ok bool) {
	if !strings.HasPrefix(id, bundlePrefix) {
		return "", 0, "", false
	}
	parts := strings.SplitN(id, bundleIDSeparator, 3)
	if len(parts) != 3 {
		return "", 0, "", false
	}
	count, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", 0, "", false
	}
	return parts[0], count, parts[2], true
}

// outboxItemIDs returns the outbox items that ids (records the relay published) let it
// delete: plain records, and bundles whose every record as one read saw it is among ids.
func outboxItemIDs(ids []string) []string {
	type read struct {
		bundle string
		count  int
	}
	var items []string
	seen := map[read]map[string]bool{} // a bundle as read -> its records among ids
	for _, id := range ids {
		bundle, count, record, ok := parseBundleRecordID(id)
		if !ok {
			items = append(items, id)
			continue
		}
		r := read{bundle, count}
		if seen[r] == nil {
			seen[r] = map[string]bool{}
		}
		seen[r][record] = true
	}
	whole := map[string]bool{}
	for r, records := range seen {
		if len(records) == r.count && !whole[r.bundle] {
			whole[r.bundle] = true
			items = append(items, r.bundle)
		}
	}
	return items
}

// expand returns the records of item, a bundle or a plain record, as the relay sees them.
func (it outboxItem) expand() []outboxItem {
	if len(it.Records) == 0 {
		return []outboxItem{it}
	}
	out := make([]outboxItem, len(it.Records))
	for i, rec := range it.Records {
		rec.ID = bundleRecordID(it.ID, len(it.Records), rec.ID)
		out[i] = rec
	}
	return out
}

// bundledRecord reads the record named by id, a bundled record's id, and returns it with the
// call that takes it out of its bundle (nil if it is gone).
func (r *DynamoDBRepository) bundledRecord(ctx context.Context, id string) (map[string]types.AttributeValue, func(context.Context) error, error) {
	bundle, _, want, _ := parseBundleRecordID(id)
	out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.cfg.OutboxTable),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: bundle}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil, nil, err
	}
	records, _ := out.Item["records"].(*types.AttributeValueMemberL)
	if records == nil {
		return nil, nil, nil
	}
	for k, rec := range records.Value {
		m, _ := rec.(*types.AttributeValueMemberM)
		if m == nil {
			continue
		}
		if s, _ := m.Value["id"].(*types.AttributeValueMemberS); s != nil && s.Value == want {
			return m.Value, func(ctx context.Context) error { return r.removeBundled(ctx, id, k, len(records.Value)) }, nil
		}
	}
	return nil, nil, nil
}

// removeBundled takes the record at index at out of the bundle named by id, or deletes the
// bundle when it is the last (count records as read).
func (r *DynamoDBRepository) removeBundled(ctx context.Context, id string, at, count int) error {
	bundle, _, record, _ := parseBundleRecordID(id)
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: bundle}}
	var err error
	if count == 1 {
		_, err = r.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.cfg.OutboxTable), Key: key})
	} else {
		// Conditional on the record still being where it was read: if another record of the
		// bundle left meanwhile, this fails and the relay parks the record again.
		_, err = r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(r.cfg.OutboxTable),
			Key:                       key,
			UpdateExpression:          aws.String(fmt.Sprintf("REMOVE records[%d] SET recordCount = recordCount - :one", at)),
			ConditionExpression:       aws.String(fmt.Sprintf("records[%d].id = :record", at)),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":record": &types.AttributeValueMemberS{Value: record}},
		})
	}
	if err != nil {
		return fmt.Errorf("take record %s out of %s: %w", record, bundle, err)
	}
	return nil
}
