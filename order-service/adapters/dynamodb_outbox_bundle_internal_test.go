package adapters

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestBundleOutboxGathersTheRecordsOfAGroup(t *testing.T) {
	record := func(id string, createdAt int, size int) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("outbox"), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id}, "createdAt": &types.AttributeValueMemberN{Value: strconv.Itoa(createdAt)},
			"data": &types.AttributeValueMemberS{Value: strings.Repeat("x", size)}, "claimOwner": &types.AttributeValueMemberS{Value: "me"},
			"claimUntil": &types.AttributeValueMemberN{Value: "99"}}}}
	}
	order := func(id string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("orders"), ConditionExpression: aws.String("version = :read"),
			Item: map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: id}}}}
	}
	remove := types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("outbox"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "old"}}}}

	tests := []struct {
		name        string
		items       []types.TransactWriteItem
		wantItems   []string // "orders/a", "outbox/e1", "bundle[e1 e2]", "delete"
		wantAt      []int
		wantCreated string // the bundle's createdAt
	}{
		{"no records", []types.TransactWriteItem{order("a"), order("b")}, []string{"orders/a", "orders/b"}, []int{0, 1}, ""},
		{"one record stays as it is", []types.TransactWriteItem{order("a"), record("e1", 5, 10)}, []string{"orders/a", "outbox/e1"}, []int{0, 1}, ""},
		{"records of three writes become one bundle where the first was",
			[]types.TransactWriteItem{order("a"), record("e1", 5, 10), order("b"), record("e2", 3, 10), remove, order("c"), record("e3", 7, 10)},
			[]string{"orders/a", "bundle[e1 e2 e3]", "orders/b", "delete", "orders/c"}, []int{0, 1, 2, 1, 3, 4, 1}, "5"},
		{"records from the first past the size bound on stay items of their own",
			[]types.TransactWriteItem{record("e1", 1, 100_000), record("e2", 2, 100_000), record("e3", 3, 200_000), record("e4", 4, 10)},
			[]string{"bundle[e1 e2]", "outbox/e3", "outbox/e4"}, []int{0, 0, 1, 2}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at := bundleOutbox("outbox", tt.items)
			var names []string
			for _, it := range got {
				names = append(names, describe(t, it, tt.wantCreated))
			}
			if !slices.Equal(names, tt.wantItems) || !slices.Equal(at, tt.wantAt) {
				t.Errorf("bundleOutbox = %v, %v; want %v, %v", names, at, tt.wantItems, tt.wantAt)
			}
		})
	}
}

// describe names a transaction item for TestBundleOutboxGathersTheRecordsOfAGroup and checks a
// bundle's own attributes.
func describe(t *testing.T, it types.TransactWriteItem, wantCreated string) string {
	t.Helper()
	if it.Delete != nil {
		return "delete"
	}
	table := aws.ToString(it.Put.TableName)
	key := "transactionId"
	if table == "outbox" {
		key = "id"
	}
	id := it.Put.Item[key].(*types.AttributeValueMemberS).Value
	if !strings.HasPrefix(id, bundlePrefix) {
		return table + "/" + id
	}
	records := it.Put.Item["records"].(*types.AttributeValueMemberL).Value
	var ids []string
	for _, rec := range records {
		m := rec.(*types.AttributeValueMemberM).Value
		if _, claimed := m["claimOwner"]; claimed {
			t.Errorf("bundled record %v keeps its claim", m["id"])
		}
		ids = append(ids, m["id"].(*types.AttributeValueMemberS).Value)
	}
	if n := it.Put.Item["recordCount"].(*types.AttributeValueMemberN).Value; n != strconv.Itoa(len(records)) {
		t.Errorf("bundle recordCount %s, holds %d", n, len(records))
	}
	if c := it.Put.Item["createdAt"].(*types.AttributeValueMemberN).Value; c != wantCreated {
		t.Errorf("bundle createdAt %s, want %s (its first record's)", c, wantCreated)
	}
	if o, _ := it.Put.Item["claimOwner"].(*types.AttributeValueMemberS); o == nil || o.Value != "me" {
		t.Errorf("bundle claimOwner %v, want its records' writer", it.Put.Item["claimOwner"])
	}
	return "bundle[" + strings.Join(ids, " ") + "]"
}

func TestOutboxItemIDsDeletesOnlyWholeBundles(t *testing.T) {
	b1 := func(rec string) string { return bundleRecordID("bundle-1", 2, rec) }
	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{"plain records", []string{"e1", "e2@order"}, []string{"e1", "e2@order"}},
		{"a whole bundle", []string{b1("e1"), b1("e2"), "e3"}, []string{"e3", "bundle-1"}},
		{"part of a bundle stays", []string{b1("e1"), "e3"}, []string{"e3"}},
		{"a record given twice is not two", []string{b1("e1"), b1("e1")}, nil},
		{"records of one read of a bundle, whole", []string{b1("e1"), bundleRecordID("bundle-1", 1, "e1")}, []string{"bundle-1"}},
		{"reads of a bundle before and after a park are not mixed",
			[]string{bundleRecordID("bundle-1", 3, "a"), bundleRecordID("bundle-1", 3, "b"), bundleRecordID("bundle-1", 2, "a")}, nil},
		{"a malformed bundle id is a plain id", []string{"bundle-x#y"}, []string{"bundle-x#y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outboxItemIDs(tt.ids); !slices.Equal(got, tt.want) {
				t.Errorf("outboxItemIDs(%v) = %v, want %v", tt.ids, got, tt.want)
			}
		})
	}
}

func TestBundleRecordIDRoundTrips(t *testing.T) {
	for _, record := range []string{"7f3c-uuid", "e1@order", "with#hash"} {
		bundle, count, got, ok := parseBundleRecordID(bundleRecordID("bundle-abc", 12, record))
		if !ok || bundle != "bundle-abc" || count != 12 || got != record {
			t.Errorf("parse(bundleRecordID(%q)) = %q, %d, %q, %v", record, bundle, count, got, ok)
		}
	}
}
