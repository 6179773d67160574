// Package adapters holds inventory-service's store: one SQL repository for MySQL/MariaDB
// (production) and SQLite (the in-process sandbox), which differ only in a few statements.
package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/inventory-service/schema"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// dialect is what differs between the SQL databases.
type dialect struct {
	// schema names the folder of schema files ("mysql", "sqlite").
	schema string
	// insertIgnore starts an INSERT that skips a row whose key exists.
	insertIgnore string
	// forUpdate ends a SELECT that locks the rows it reads. SQLite needs none: BEGIN IMMEDIATE
	// (_txlock=immediate) makes each write transaction the only one.
	forUpdate string
	// forShare ends a SELECT that reads the latest committed rows and keeps them from changing
	// until commit. Empty where one writer applies every transaction (SQLite), so nothing can
	// change between a read and the commit.
	forShare string
	// txOptions start a write transaction. MySQL runs them READ COMMITTED, so InnoDB takes no
	// gap locks: only the rows named are locked, always products in SKU order, so no deadlock.
	txOptions *sql.TxOptions
	// upsertProduct ends an INSERT INTO products that replaces the name, price, currency and
	// available stock of a product that exists (and leaves its reserved units).
	upsertProduct string
	// hasColumn and hasIndex count a table's column or index by name (arguments: table, name);
	// hasIndex is empty where the schema file creates indexes IF NOT EXISTS.
	hasColumn, hasIndex string
	// purgeProcessed deletes up to a number of processed_events older than an age (arguments:
	// age as purgeAge returns it, limit).
	purgeProcessed string
	purgeAge       func(time.Duration) any
	// claims says replicas share the outbox, so each relay claims the rows it publishes.
	claims bool
}

// ErrStockChanged means a reservation found less stock than decided on: the products were not
// locked as they should be. Nothing is stored; a retry decides again.
var ErrStockChanged = errors.New("stock changed between decision and update")

// ErrExpiredMeanwhile means the order expired while its reservation was being made (by
// another writer's transaction). Nothing is stored; the retry finds the tombstone and reserves
// nothing.
var ErrExpiredMeanwhile = errors.New("order expired while it was being reserved")

// SQLRepository is the inventory store over MySQL/MariaDB or SQLite. It implements
// app.Repository and outbox.Store.
type SQLRepository struct {
	db      *sql.DB
	dialect dialect
	// read serves queries outside transactions: db for MySQL, a pool of readers for SQLite.
	read sqldb.Querier
	// closers release what the SQLite repository opens beside db (writer, readers).
	closers []func()
	// writers group concurrent write transactions into one commit per writer.
	writers *sqldb.Pool
	// relay runs the outbox relay's claims and deletes on MySQL: a writer of their own, whose
	// statements lock outbox rows only, so they never form a cycle with the writers' product
	// locks (grouped with those, a claim deadlocked with a concurrent Release). They run
	// outside transactions (DoAlone): each statement is atomic by itself.
	relay *sqldb.Writer
	// owner names this process's outbox claims, which last lease; empty where the dialect
	// claims nothing.
	owner string
	lease time.Duration
}

var _ app.Repository = (*SQLRepository)(nil)

// open applies the dialect's schema and seed files to db and returns the repository.
func open(ctx context.Context, db *sql.DB, d dialect) (*SQLRepository, error) {
	stmts, err := schema.Statements(d.schema)
	if err != nil {
		return nil, err
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("apply schema: %w (in %.60q)", err, s)
		}
	}
	// Outboxes created before they kept trace context gain its columns; MySQL has no ADD
	// COLUMN IF NOT EXISTS, so the duplicate-column error is what says it is there already.
	for _, col := range []string{"trace_parent VARCHAR(64) NOT NULL DEFAULT ''", "trace_state VARCHAR(512) NOT NULL DEFAULT ''"} {
		if _, err := db.ExecContext(ctx, `ALTER TABLE outbox ADD COLUMN `+col); err != nil && !strings.Contains(strings.ToLower(err.Error()), "duplicate column") {
			return nil, fmt.Errorf("add outbox column: %w", err)
		}
	}
	r := &SQLRepository{db: db, dialect: d, read: db}
	if err := r.migrate(ctx); err != nil {
		return nil, err
	}
	if d.claims {
		if err := migrateClaims(ctx, db); err != nil {
			return nil, err
		}
		r.owner, r.lease = outbox.NewOwner(), outbox.Lease
	}
	return r, nil
}

// Close closes the database.
func (r *SQLRepository) Close() error {
	for _, c := range r.closers {
		c()
	}
	return r.db.Close()
}

// write runs fn in a write transaction and commits it unless fn fails.
func (r *SQLRepository) write(ctx context.Context, fn func(ctx context.Context, tx sqldb.Querier) error) error {
	return r.writeKey(ctx, "", fn)
}

// writeKey runs fn as write does; transactions with the same key go to the same writer (the
// rows a transaction locks decide its key).
func (r *SQLRepository) writeKey(ctx context.Context, key string, fn func(ctx context.Context, tx sqldb.Querier) error) error {
	if r.writers != nil {
		return r.writers.Do(ctx, key, fn)
	}
	tx, err := r.db.BeginTx(ctx, r.dialect.txOptions)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op once committed
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// relayWrite runs fn on the relay's writer, outside a transaction, where there is one (MySQL),
// and else as write does.
func (r *SQLRepository) relayWrite(ctx context.Context, fn func(ctx context.Context, tx sqldb.Querier) error) error {
	if r.relay != nil {
		return r.relay.DoAlone(ctx, fn)
	}
	return r.write(ctx, fn)
}

// Ping checks that the database answers.
func (r *SQLRepository) Ping(ctx context.Context) error { return r.db.PingContext(ctx) }

// productColumns read a product with its reserved units, which reservations and releases keep
// up to date: a read costs the same however many orders were placed.
const productColumns = `p.sku, p.name, p.price, p.currency, p.available, p.reserved`

func scanProduct(row interface{ Scan(...any) error }) (domain.Product, error) {
	var p domain.Product
	err := row.Scan(&p.SKU, &p.Name, &p.Price, &p.Currency, &p.Available, &p.Reserved)
	return p, err
}

// Products returns the catalogue sorted by SKU, with the units active reservations hold.
func (r *SQLRepository) Products(ctx context.Context) ([]domain.Product, error) {
	rows, err := r.read.QueryContext(ctx, `SELECT `+productColumns+` FROM products p ORDER BY p.sku`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	products := []domain.Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, err
		}
		products = append(products, p)
	}
	return products, rows.Err()
}

// Product returns one product, or an error wrapping domain.ErrProductNotFound.
func (r *SQLRepository) Product(ctx context.Context, sku string) (domain.Product, error) {
	p, err := scanProduct(r.read.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.sku = ?`, sku))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: %s", domain.ErrProductNotFound, sku)
	}
	return p, err
}

// UpsertProduct creates the product or replaces its name, price, currency and available stock.
// It is for tests and operators: it does not touch reservations nor the units they hold.
func (r *SQLRepository) UpsertProduct(ctx context.Context, p domain.Product) error {
	return r.write(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name, price, currency, available) VALUES (?, ?, ?, ?, ?) `+r.dialect.upsertProduct,
			p.SKU, p.Name, p.Price, p.Currency, p.Available)
		return err
	})
}

// Reserve implements app.Repository: when the transaction has no reservation yet, it locks the
// products of skus in SKU order, asks decide, takes the lines from the available stock and
// records them as the transaction's reservation.
func (r *SQLRepository) Reserve(ctx context.Context, eventID, transactionID string, skus []string, decide app.ReserveFunc) (bool, error) {
	// Orders of the same SKU lock the same row: their writer is the first SKU's.
	key := ""
	if len(skus) > 0 {
		key = slices.Min(skus)
	}
	return r.apply(ctx, eventID, key, func(ctx context.Context, tx sqldb.Querier) ([]kafka.Message, error) {
		// Guards after processed_events, one query for both: an order that reserved under
		// another event id, or that expired before its ORDER_CREATE came (sql_expiry.go).
		if done, err := r.reservedOrExpired(ctx, tx, transactionID); err != nil || done {
			return nil, err
		}
		products, err := r.lockProducts(ctx, tx, skus)
		if err != nil {
			return nil, err
		}
		lines, out, err := decide(products)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(lines, func(a, b domain.Line) int { return strings.Compare(a.SKU, b.SKU) })
		for _, l := range lines {
			// The guard makes an impossible decision fail instead of overselling.
			res, err := tx.ExecContext(ctx, `UPDATE products SET available = available - ?, reserved = reserved + ? WHERE sku = ? AND available >= ?`, l.Quantity, l.Quantity, l.SKU, l.Quantity)
			if err != nil {
				return nil, err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return nil, fmt.Errorf("%w: reserve %d of %s (rows %d, %v)", ErrStockChanged, l.Quantity, l.SKU, n, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reservations (transaction_id, sku, quantity, unit_price, status) VALUES (?, ?, ?, ?, ?)`,
				transactionID, l.SKU, l.Quantity, l.UnitPrice, domain.StatusActive); err != nil {
				return nil, err
			}
		}
		if len(lines) > 0 && r.dialect.forShare != "" {
			// Reserve runs on its first SKU's writer and Expire on the transaction's, and under
			// READ COMMITTED the guard above locked nothing: an Expire that committed its
			// tombstone since then found no reservation to release. Its tombstone is read again
			// now, locking: an Expire still running waits for this commit and releases what it
			// finds; one that committed is seen here, and nothing is reserved.
			var expired bool
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM expired_transactions WHERE transaction_id = ?`+r.dialect.forShare, transactionID).Scan(&expired); err != nil {
				return nil, err
			}
			if expired {
				return nil, fmt.Errorf("%w: %s", ErrExpiredMeanwhile, transactionID)
			}
		}
		return out, nil
	})
}

// lockProducts reads and locks the products of skus, one at a time in SKU order so that two
// transactions never wait for each other in a circle. Unknown SKUs are absent from the map.
func (r *SQLRepository) lockProducts(ctx context.Context, tx sqldb.Querier, skus []string) (map[string]domain.Product, error) {
	sorted := slices.Clone(skus)
	slices.Sort(sorted)
	products := map[string]domain.Product{}
	for _, sku := range slices.Compact(sorted) {
		var p domain.Product
		err := tx.QueryRowContext(ctx, `SELECT sku, name, price, currency, available FROM products WHERE sku = ?`+r.dialect.forUpdate, sku).
			Scan(&p.SKU, &p.Name, &p.Price, &p.Currency, &p.Available)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		}
		products[p.SKU] = p
	}
	return products, nil
}

// Release implements app.Repository: it reads the transaction's reservation, asks decide, and
// if the reservation is active puts its lines back, in SKU order, and marks it released.
func (r *SQLRepository) Release(ctx context.Context, eventID, transactionID string, decide app.ReleaseFunc) (bool, error) {
	return r.apply(ctx, eventID, transactionID, func(ctx context.Context, tx sqldb.Querier) ([]kafka.Message, error) {
		rows, err := tx.QueryContext(ctx, `SELECT sku, quantity, unit_price, status FROM reservations WHERE transaction_id = ? ORDER BY sku`+r.dialect.forUpdate, transactionID)
		if err != nil {
			return nil, err
		}
		var lines []domain.Line
		status := domain.StatusReleased
		for rows.Next() {
			var l domain.Line
			var s domain.Status
			if err := rows.Scan(&l.SKU, &l.Quantity, &l.UnitPrice, &s); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, l)
			if s == domain.StatusActive {
				status = domain.StatusActive // rows change status together
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out, err := decide(lines, status)
		if err != nil || status != domain.StatusActive {
			return out, err
		}
		for _, l := range lines {
			if _, err := tx.ExecContext(ctx, `UPDATE products SET available = available + ?, reserved = reserved - ? WHERE sku = ?`, l.Quantity, l.Quantity, l.SKU); err != nil {
				return nil, err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE reservations SET status = ? WHERE transaction_id = ? AND status = ?`, domain.StatusReleased, transactionID, domain.StatusActive)
		return out, err
	})
}

// apply runs work in one transaction that first records eventID as processed and last stores
// the messages work returns in the outbox. It reports false, changing nothing, when eventID
// was processed before. An error rolls everything back, the processed record included.
func (r *SQLRepository) apply(ctx context.Context, eventID, key string, work func(ctx context.Context, tx sqldb.Querier) ([]kafka.Message, error)) (applied bool, err error) {
	caller := ctx // the events stored continue the caller's trace, not this store span's
	ctx, span := telemetry.StartStoreSpan(ctx, r.dialect.schema, "apply event")
	defer func() { telemetry.EndSpan(span, err) }()
	err = r.writeKey(ctx, key, func(ctx context.Context, tx sqldb.Querier) error {
		// Recorded first: a concurrent duplicate waits on this row and then finds it.
		res, err := tx.ExecContext(ctx, r.dialect.insertIgnore+` INTO processed_events (event_id) VALUES (?)`, eventID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		out, err := work(ctx, tx)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			// One multi-row INSERT for all of them: a reservation stores two messages.
			args := make([]any, 0, len(out)*9)
			for _, m := range out {
				m = kafka.StampTrace(caller, m)
				e := m.Event
				args = append(args, m.Topic, e.Key, e.ID, string(e.Type), e.Source, e.Time.UTC().Format(time.RFC3339Nano), string(e.Data), m.TraceParent, m.TraceState)
			}
			if _, err := tx.ExecContext(ctx, outboxInsert(len(out)), args...); err != nil {
				return err
			}
		}
		applied = true
		return nil
	})
	return applied && err == nil, err
}

// outboxInsert is the INSERT of n outbox rows. Rows get ids in the order of their VALUES, so
// the relay publishes them in the order the handler returned them.
func outboxInsert(n int) string {
	return `INSERT INTO outbox (topic, message_key, event_id, event_type, source, event_time, payload, trace_parent, trace_state) VALUES ` +
		strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?), `, n-1) + `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
}

// outboxColumns are what scanOutbox reads.
const outboxColumns = `id, topic, message_key, event_id, event_type, source, event_time, payload, trace_parent, trace_state`

// PendingOutbox implements outbox.Store: up to limit stored messages, oldest first. On MySQL,
// which replicas share, only those this relay claimed (sql_outbox_claim.go).
func (r *SQLRepository) PendingOutbox(ctx context.Context, limit int) ([]outbox.Record, error) {
	if r.owner != "" {
		return r.claimOutbox(ctx, limit)
	}
	rows, err := r.read.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return scanOutbox(rows)
}

// scanOutbox reads outbox rows selected as outboxColumns, and closes them.
func scanOutbox(rows *sql.Rows) ([]outbox.Record, error) {
	defer rows.Close()
	var records []outbox.Record
	for rows.Next() {
		var (
			id      int64
			typ, at string
			payload []byte
			m       kafka.Message
		)
		if err := rows.Scan(&id, &m.Topic, &m.Event.Key, &m.Event.ID, &typ, &m.Event.Source, &at, &payload, &m.TraceParent, &m.TraceState); err != nil {
			return nil, err
		}
		m.Event.Type = event.Type(typ)
		m.Event.Data = payload
		var err error
		if m.Event.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("outbox row %d: event_time: %w", id, err)
		}
		records = append(records, outbox.Record{ID: strconv.FormatInt(id, 10), Message: m})
	}
	return records, rows.Err()
}

// DeleteOutbox implements outbox.Store: it removes published messages.
func (r *SQLRepository) DeleteOutbox(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	nums := make([]int64, len(ids))
	for i, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return fmt.Errorf("outbox id %q: %w", id, err)
		}
		nums[i] = n
	}
	in, args := sqldb.InList(nums)
	return r.relayWrite(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id IN `+in, args...)
		return err
	})
}

// PurgeBatch is how many rows one purge transaction deletes at most, so a purge never holds
// the store for long.
const PurgeBatch = 1000

// PurgeProcessed deletes the records of events processed longer than age ago, PurgeBatch rows
// per transaction, and returns how many it deleted. A redelivery of such an event is no longer
// recognised, so age must exceed the topics' retention.
func (r *SQLRepository) PurgeProcessed(ctx context.Context, age time.Duration) (int, error) {
	total := 0
	for {
		var n int64
		err := r.write(ctx, func(ctx context.Context, tx sqldb.Querier) error {
			res, err := tx.ExecContext(ctx, r.dialect.purgeProcessed, r.dialect.purgeAge(age), PurgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < PurgeBatch {
			return total, err
		}
	}
}

// OutboxStats implements outbox.StatsStore. A row's age is its event's time: the event is made
// in the transaction that stores it.
func (r *SQLRepository) OutboxStats(ctx context.Context) (outbox.Stats, error) {
	var stats outbox.Stats
	var oldest sql.NullString
	err := r.read.QueryRowContext(ctx, `SELECT COUNT(*), (SELECT event_time FROM outbox ORDER BY id LIMIT 1) FROM outbox`).Scan(&stats.Pending, &oldest)
	if err != nil {
		return outbox.Stats{}, err
	}
	if oldest.Valid {
		if stats.Oldest, err = time.Parse(time.RFC3339Nano, oldest.String); err != nil {
			return outbox.Stats{}, fmt.Errorf("outbox event_time: %w", err)
		}
	}
	return stats, nil
}
