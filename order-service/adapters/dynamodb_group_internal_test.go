package adapters

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTakeLockedGroupsWhatFitsTogether(t *testing.T) {
	g := newWriteGroup(nil, map[string]string{"orders": "transactionId", "outbox": "id"}, "outbox")
	put := func(table, key string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			g.hashKey[table]: &types.AttributeValueMemberS{Value: key}}}}
	}
	// write is a queued write of items named "table/key".
	write := func(ctx context.Context, names ...string) *groupedWrite {
		var items []types.TransactWriteItem
		for _, n := range names {
			table, key, _ := strings.Cut(n, "/")
			items = append(items, put(table, key))
		}
		return g.newWrite(ctx, items, nil)
	}
	many := func(table, prefix string, n int) []string {
		var names []string
		for i := range n {
			names = append(names, table+"/"+prefix+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		}
		return names
	}
	bg := context.Background()
	// big is a write of order o and an outbox record of 120,000 bytes.
	big := func(o string) *groupedWrite {
		rec := put("outbox", "e-"+o)
		rec.Put.Item["data"] = &types.AttributeValueMemberS{Value: strings.Repeat("x", 120_000)}
		return g.newWrite(bg, []types.TransactWriteItem{put("orders", o), rec}, nil)
	}
	// huge is a write of two outbox records that pass maxBundleBytes together.
	huge := func() *groupedWrite {
		a, b := put("outbox", "h1"), put("outbox", "h2")
		a.Put.Item["data"] = &types.AttributeValueMemberS{Value: strings.Repeat("x", 200_000)}
		b.Put.Item["data"] = &types.AttributeValueMemberS{Value: strings.Repeat("x", 200_000)}
		return g.newWrite(bg, []types.TransactWriteItem{put("orders", "h"), a, b}, nil)
	}()
	// orders is n writes of an order and its outbox record.
	orders := func(n int) []*groupedWrite {
		var ws []*groupedWrite
		for i := range n {
			ws = append(ws, write(bg, fmt.Sprintf("orders/o%d", i), fmt.Sprintf("outbox/e%d", i)))
		}
		return ws
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name          string
		queue         []*groupedWrite
		wantTaken     []int // indexes into queue
		wantLeft      []int
		wantCancelled []int
	}{
		{"one write", []*groupedWrite{write(bg, "orders/a", "outbox/1")}, []int{0}, nil, nil},
		{"different orders together", []*groupedWrite{write(bg, "orders/a"), write(bg, "orders/b"), write(bg, "orders/c")}, []int{0, 1, 2}, nil, nil},
		{"one item twice waits for the next group, others pass it",
			[]*groupedWrite{write(bg, "orders/a"), write(bg, "orders/a", "outbox/2"), write(bg, "orders/b")}, []int{0, 2}, []int{1}, nil},
		{"same key in different tables is no overlap", []*groupedWrite{write(bg, "orders/a"), write(bg, "outbox/a")}, []int{0, 1}, nil, nil},
		{"at most 100 items", []*groupedWrite{write(bg, many("orders", "p", 60)...), write(bg, many("orders", "q", 41)...), write(bg, many("orders", "r", 40)...)}, []int{0, 2}, []int{1}, nil},
		{"a write too big for company still goes", []*groupedWrite{write(bg, many("orders", "p", 100)...), write(bg, "orders/a")}, []int{0}, []int{1}, nil},
		{"outbox records count as the one bundle they become", orders(99), seq(99), nil, nil},
		{"the bundle is one of the 100 items", orders(100), seq(99), []int{99}, nil},
		{"a bundle holds at most maxBundleBytes of records", []*groupedWrite{big("a"), big("b"), big("c"), write(bg, "orders/d")}, []int{0, 1, 3}, []int{2}, nil},
		{"a write whose records pass maxBundleBytes goes alone", []*groupedWrite{huge, write(bg, "orders/x")}, []int{0}, []int{1}, nil},
		{"at most 100 records in a bundle", []*groupedWrite{write(bg, many("outbox", "p", 60)...), write(bg, many("outbox", "q", 41)...), write(bg, many("outbox", "r", 40)...)}, []int{0, 2}, []int{1}, nil},
		{"a write whose caller gave up is dropped", []*groupedWrite{write(cancelled, "orders/a"), write(bg, "orders/a")}, []int{1}, nil, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.queue = slices.Clone(tt.queue)
			taken := g.takeLocked()
			if want := pick(tt.queue, tt.wantTaken); !slices.Equal(taken, want) {
				t.Errorf("took %d writes, want %v", len(taken), tt.wantTaken)
			}
			if want := pick(tt.queue, tt.wantLeft); !slices.Equal(g.queue, want) {
				t.Errorf("left %d writes, want %v", len(g.queue), tt.wantLeft)
			}
			for _, i := range tt.wantCancelled {
				select {
				case err := <-tt.queue[i].done:
					if !errors.Is(err, context.Canceled) {
						t.Errorf("write %d answered %v, want context.Canceled", i, err)
					}
				default:
					t.Errorf("write %d got no answer", i)
				}
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func pick(queue []*groupedWrite, idx []int) []*groupedWrite {
	var out []*groupedWrite
	for _, i := range idx {
		out = append(out, queue[i])
	}
	return out
}
