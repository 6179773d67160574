package adapters

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// writeGroup commits the order writes that wait at the same time in one TransactWriteItems
// (group commit), as platform/sqldb's Writer does for SQL. DynamoDB Local applies the writes
// to a table one request at a time under a table lock, and most of a request's time there is
// its own overhead, not its items': one order created alone cost 7.5 ms of that lock, 2.4 ms
// as one of 33 in a transaction (BenchmarkDynamoDBLocalCost, TWIx1 and TWIx33, data file).
//
// A write goes out alone, in its usual form (a PutItem stays a PutItem), while fewer than
// groupSends requests are in flight; the writes that arrive meanwhile wait and leave together,
// up to maxGroupItems items, with no item twice. A group applies entirely or not at all, so a
// group that DynamoDB cancels (one write's condition failed, or it met another transaction) is
// split: the writes DynamoDB names as the cause are sent again alone, so that each caller gets
// the answer to its own write (a failed condition means to it exactly what it meant before
// grouping), and the others again together.
//
// On AWS a grouped write costs the same or more: an item written in a transaction takes two
// write units, so a PutItem (RESERVED) or an outbox delete that joins a group takes twice its
// usual units, in exchange for fewer requests; and claiming or parking a bundle of outbox
// records (dynamodb_outbox_bundle.go) is billed on the whole bundle's size.
type writeGroup struct {
	client  *dynamodb.Client
	hashKey map[string]string // table -> its hash key attribute
	// outboxTable is where the group's outbox records go, as one bundle
	// (dynamodb_outbox_bundle.go).
	outboxTable string

	mu      sync.Mutex
	queue   []*groupedWrite
	sending int
}

// groupedWrite is one caller's write: its items as transaction members, and alone, the call
// that makes the same write by itself.
type groupedWrite struct {
	ctx   context.Context
	items []types.TransactWriteItem
	keys  []string
	// records and recordBytes are its outbox puts, which a group bundles, and their size.
	records, recordBytes int
	alone                func(ctx context.Context) error
	done                 chan error
}

const (
	// groupSends bounds the write requests in flight at once; more writes wait and are grouped.
	// Two: one request is parsed while DynamoDB Local applies the other. On the stack
	// (`loadgen -mode closed -orders 4000`, alternating) 1 settled 163 / 138 orders/s, 2
	// 175 / 155 / 164 / 150, 4 142 / 151.
	groupSends = 2
	// maxGroupItems is TransactWriteItems' limit on items.
	maxGroupItems = 100
)

func newWriteGroup(client *dynamodb.Client, hashKey map[string]string, outboxTable string) *writeGroup {
	return &writeGroup{client: client, hashKey: hashKey, outboxTable: outboxTable}
}

// write makes the write of items, alone or in a group, and returns the error of alone, the
// same write by itself: nil if the group committed, alone's own error if the group was
// cancelled, and the group's error if the request failed otherwise.
func (g *writeGroup) write(ctx context.Context, items []types.TransactWriteItem, alone func(ctx context.Context) error) error {
	w := g.newWrite(ctx, items, alone)
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.sending < groupSends {
		g.sending++
		group := g.takeLocked()
		g.mu.Unlock()
		go g.serve(group)
	} else {
		g.mu.Unlock()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newWrite is a caller's write as the group queues it.
func (g *writeGroup) newWrite(ctx context.Context, items []types.TransactWriteItem, alone func(ctx context.Context) error) *groupedWrite {
	w := &groupedWrite{ctx: ctx, items: items, keys: g.keys(items), alone: alone, done: make(chan error, 1)}
	for _, it := range items {
		if isOutboxPut(g.outboxTable, it) {
			w.records++
			w.recordBytes += itemBytes(it.Put.Item)
		}
	}
	return w
}

// serve sends group, then the groups that queued meanwhile, until the queue is empty.
func (g *writeGroup) serve(group []*groupedWrite) {
	for {
		g.send(group)
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.sending--
			g.mu.Unlock()
			return
		}
		group = g.takeLocked()
		g.mu.Unlock()
	}
}

// takeLocked takes the oldest queued writes that fit in one transaction together: at most
// maxGroupItems items, counting the outbox records as the one bundle they become
// (dynamodb_outbox_bundle.go), which holds at most maxGroupItems records and maxBundleBytes,
// and no item twice (DynamoDB refuses a transaction that names an item twice). The writes
// left wait for the next group, in order; those whose caller stopped waiting are dropped.
func (g *writeGroup) takeLocked() []*groupedWrite {
	var group []*groupedWrite
	items, records, recordBytes := 0, 0, 0
	seen := map[string]bool{}
	rest := g.queue[:0]
	for _, w := range g.queue {
		if err := w.ctx.Err(); err != nil {
			w.done <- err // its caller gave up waiting: send nothing nobody waits for
			continue
		}
		bundle := min(1, records+w.records)
		// A first write whose records alone pass maxBundleBytes goes alone, unbundled (send).
		fits := items+len(w.items)-w.records+bundle <= maxGroupItems && records+w.records <= maxGroupItems &&
			recordBytes <= maxBundleBytes && (records == 0 || w.records == 0 || recordBytes+w.recordBytes <= maxBundleBytes)
		if len(group) > 0 && (!fits || anySeen(seen, w.keys)) {
			rest = append(rest, w)
			continue
		}
		group = append(group, w)
		items += len(w.items) - w.records
		records += w.records
		recordBytes += w.recordBytes
		for _, k := range w.keys {
			seen[k] = true
		}
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return group
}

func anySeen(seen map[string]bool, keys []string) bool {
	for _, k := range keys {
		if seen[k] {
			return true
		}
	}
	return false
}

// send makes group's writes: one alone as itself, several in one TransactWriteItems.
func (g *writeGroup) send(group []*groupedWrite) {
	switch len(group) {
	case 0:
		return
	case 1:
		w := group[0]
		w.done <- w.alone(w.ctx)
		return
	}
	var items []types.TransactWriteItem
	for _, w := range group {
		items = append(items, w.items...)
	}
	items, at := bundleOutbox(g.outboxTable, items)
	// The first caller's context carries its trace; no caller's cancellation stops the others'
	// writes. The token makes the SDK's retry of a transaction that did commit succeed.
	ctx := context.WithoutCancel(group[0].ctx)
	_, err := g.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(uuid.NewString())})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	// The writes whose items DynamoDB named as the cause go alone, to get their own answer;
	// the rest go again as a group. If none is named, every write goes alone.
	failed, rest := group, []*groupedWrite(nil)
	if reasons := cancelled.CancellationReasons; len(reasons) == len(items) {
		failed = nil
		for _, w := range group {
			mine := at[:len(w.items)]
			at = at[len(w.items):]
			if slices.ContainsFunc(mine, func(i int) bool {
				code := aws.ToString(reasons[i].Code)
				return code != "" && code != "None"
			}) {
				failed = append(failed, w)
			} else {
				rest = append(rest, w)
			}
		}
		if len(failed) == 0 {
			failed, rest = group, nil
		}
	}
	var wg sync.WaitGroup
	for _, w := range failed {
		wg.Go(func() { w.done <- w.alone(w.ctx) })
	}
	if len(rest) > 0 {
		g.send(rest)
	}
	wg.Wait()
}

// keys names the items a write touches, table and hash key, so that no group holds one twice.
func (g *writeGroup) keys(items []types.TransactWriteItem) []string {
	keys := make([]string, 0, len(items))
	for _, it := range items {
		var table string
		var key map[string]types.AttributeValue
		switch {
		case it.Put != nil:
			table, key = aws.ToString(it.Put.TableName), it.Put.Item
		case it.Update != nil:
			table, key = aws.ToString(it.Update.TableName), it.Update.Key
		case it.Delete != nil:
			table, key = aws.ToString(it.Delete.TableName), it.Delete.Key
		case it.ConditionCheck != nil:
			table, key = aws.ToString(it.ConditionCheck.TableName), it.ConditionCheck.Key
		}
		k := table + "\x00"
		if s, ok := key[g.hashKey[table]].(*types.AttributeValueMemberS); ok {
			k += s.Value
		}
		keys = append(keys, k)
	}
	return keys
}
