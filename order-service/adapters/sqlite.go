package adapters

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/sqlite"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

//go:embed schema/sqlite.sql
var sqliteSchema string

// SQLiteRepository is an app.Repository in one SQLite file, for the in-process sandbox. Writes
// go through one writer connection that commits concurrent writes together; reads use a pool.
type SQLiteRepository struct {
	store *sqlite.Store
}

var _ app.Repository = (*SQLiteRepository)(nil)

// NewSQLiteRepository opens (creating if needed) the database file at path and its schema.
func NewSQLiteRepository(path string) (*SQLiteRepository, error) {
	store, err := sqlite.OpenStore(path, func(db *sql.DB) error {
		if _, err := db.Exec(sqliteSchema); err != nil {
			return fmt.Errorf("create sqlite schema in %s: %w", path, err)
		}
		// Databases created before the outbox kept trace context gain its columns.
		for _, col := range []string{"trace_parent", "trace_state"} {
			if _, err := db.Exec(`ALTER TABLE outbox ADD COLUMN ` + col + ` TEXT NOT NULL DEFAULT ''`); err != nil && !strings.Contains(err.Error(), "duplicate column") {
				return fmt.Errorf("add outbox column %s in %s: %w", col, path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &SQLiteRepository{store: store}, nil
}

// Close closes the database.
func (r *SQLiteRepository) Close() error { return r.store.Close() }

// Ping reports whether the database can be reached.
func (r *SQLiteRepository) Ping(ctx context.Context) error { return r.store.Ping(ctx) }

// CreateOrder implements app.Repository.
func (r *SQLiteRepository) CreateOrder(ctx context.Context, o domain.Order, msg kafka.Message, key app.IdempotencyKey) (_ app.IdempotencyKey, err error) {
	// The event continues the caller's trace, not the store call's span.
	msg = kafka.StampTrace(ctx, msg)
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "CreateOrder")
	defer func() { telemetry.EndSpan(span, err) }()
	cols, args, err := orderColumns(o, o.Version)
	if err != nil {
		return app.IdempotencyKey{}, err
	}
	query := `INSERT INTO orders (` + strings.Join(cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(cols)-1) + `)`
	now := time.Now().UTC().Format(timeFormat)
	stored := app.IdempotencyKey{Key: key.Key}
	err = r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		if key.Key != "" {
			err := tx.QueryRowContext(ctx, `SELECT request_hash, transaction_id FROM idempotency_keys WHERE idempotency_key = ?`, key.Key).
				Scan(&stored.RequestHash, &stored.TransactionID)
			if err == nil {
				return app.ErrIdempotencyKeyExists
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (idempotency_key, request_hash, transaction_id, created_at) VALUES (?, ?, ?, ?)`,
				key.Key, key.RequestHash, key.TransactionID, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		e := msg.Event
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, topic, event_key, event_id, event_type, source, event_time, data, created_at, trace_parent, trace_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, msg.Topic, e.Key, e.ID, string(e.Type), e.Source, e.Time.UTC().Format(timeFormat), string(e.Data), now, msg.TraceParent, msg.TraceState)
		return err
	})
	if errors.Is(err, app.ErrIdempotencyKeyExists) {
		return stored, err
	}
	return app.IdempotencyKey{}, err
}

// orderColumns lists the orders columns and their values for o stored at version.
func orderColumns(o domain.Order, version int64) ([]string, []any, error) {
	items, err := json.Marshal(toItemRecords(o.Items))
	if err != nil {
		return nil, nil, err
	}
	history, err := json.Marshal(toHistoryRecords(o.History))
	if err != nil {
		return nil, nil, err
	}
	var amount, currency any // NULL until known
	if o.AmountKnown() {
		amount, currency = o.Amount, o.Currency
	}
	return []string{"transaction_id", "customer_id", "payment_method", "items", "status", "reason", "amount", "currency", "created_at", "updated_at", "history", "version"},
		[]any{o.TransactionID, o.CustomerID, o.PaymentMethod, string(items), string(o.Status), o.Reason, amount, currency,
			o.CreatedAt.UTC().Format(timeFormat), o.UpdatedAt.UTC().Format(timeFormat), string(history), version}, nil
}

// GetOrder implements app.Repository.
func (r *SQLiteRepository) GetOrder(ctx context.Context, transactionID string) (_ domain.Order, err error) {
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "GetOrder")
	defer func() { telemetry.EndSpan(span, err) }()
	var (
		o                      domain.Order
		items, history, status string
		createdAt, updatedAt   string
		amount                 sql.NullInt64
		currency               sql.NullString
	)
	err = r.store.Reads.QueryRowContext(ctx, `SELECT transaction_id, customer_id, payment_method, items, status, reason, amount, currency, created_at, updated_at, history, version
		FROM orders WHERE transaction_id = ?`, transactionID).
		Scan(&o.TransactionID, &o.CustomerID, &o.PaymentMethod, &items, &status, &o.Reason, &amount, &currency, &createdAt, &updatedAt, &history, &o.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Order{}, app.ErrNotFound
	}
	if err != nil {
		return domain.Order{}, err
	}
	o.Status = domain.Status(status)
	o.Amount, o.Currency = amount.Int64, currency.String
	var itemRecs []itemRecord
	var historyRecs []historyRecord
	if err := json.Unmarshal([]byte(items), &itemRecs); err != nil {
		return domain.Order{}, fmt.Errorf("order %s items: %w", transactionID, err)
	}
	if err := json.Unmarshal([]byte(history), &historyRecs); err != nil {
		return domain.Order{}, fmt.Errorf("order %s history: %w", transactionID, err)
	}
	o.Items, o.History = fromItemRecords(itemRecs), fromHistoryRecords(historyRecs)
	if o.CreatedAt, err = time.Parse(timeFormat, createdAt); err != nil {
		return domain.Order{}, err
	}
	if o.UpdatedAt, err = time.Parse(timeFormat, updatedAt); err != nil {
		return domain.Order{}, err
	}
	return o, nil
}

// UpdateOrder implements app.Repository.
func (r *SQLiteRepository) UpdateOrder(ctx context.Context, o domain.Order, msgs ...kafka.Message) (err error) {
	// The events continue the caller's trace, not the store call's span.
	msgs = stampTraces(ctx, msgs)
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "UpdateOrder")
	defer func() { telemetry.EndSpan(span, err) }()
	cols, args, err := orderColumns(o, o.Version+1)
	if err != nil {
		return err
	}
	set := make([]string, 0, len(cols))
	for _, c := range cols[1:] { // not the key
		set = append(set, c+" = ?")
	}
	args = append(args[1:], o.TransactionID, o.Version)
	return r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		res, err := tx.ExecContext(ctx, `UPDATE orders SET `+strings.Join(set, ", ")+` WHERE transaction_id = ? AND version = ?`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return app.ErrConflict
		}
		return insertOutbox(ctx, tx, msgs) // the order and its events in one transaction
	})
}

// PendingOutbox implements outbox.Store.
func (r *SQLiteRepository) PendingOutbox(ctx context.Context, limit int) ([]outbox.Record, error) {
	rows, err := r.store.Reads.QueryContext(ctx, `SELECT id, topic, event_key, event_id, event_type, source, event_time, data, trace_parent, trace_state FROM outbox ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outbox.Record
	for rows.Next() {
		var rec outbox.Record
		var e event.Event
		var typ, at, data string
		if err := rows.Scan(&rec.ID, &rec.Message.Topic, &e.Key, &e.ID, &typ, &e.Source, &at, &data, &rec.Message.TraceParent, &rec.Message.TraceState); err != nil {
			return nil, err
		}
		if e.Time, err = time.Parse(timeFormat, at); err != nil {
			return nil, fmt.Errorf("outbox %s time: %w", rec.ID, err)
		}
		e.Type, e.Data = event.Type(typ), json.RawMessage(data)
		rec.Message.Event = e
		out = append(out, rec)
	}
	return out, rows.Err()
}

// DeleteOutbox implements outbox.Store.
func (r *SQLiteRepository) DeleteOutbox(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := sqldb.InList(ids)
	return r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id IN `+in, args...)
		return err
	})
}

// OutboxStats implements outbox.StatsStore.
func (r *SQLiteRepository) OutboxStats(ctx context.Context) (outbox.Stats, error) {
	var stats outbox.Stats
	var oldest sql.NullString
	err := r.store.Reads.QueryRowContext(ctx, `SELECT COUNT(*), (SELECT created_at FROM outbox ORDER BY seq LIMIT 1) FROM outbox`).Scan(&stats.Pending, &oldest)
	if err != nil {
		return outbox.Stats{}, err
	}
	if oldest.Valid {
		if stats.Oldest, err = time.Parse(timeFormat, oldest.String); err != nil {
			return outbox.Stats{}, fmt.Errorf("outbox created_at: %w", err)
		}
	}
	return stats, nil
}

// purgeBatch bounds the keys one purge transaction deletes, so a purge never holds the writer
// for long.
const purgeBatch = 1000

// PurgeIdempotencyKeys implements app.Repository.
func (r *SQLiteRepository) PurgeIdempotencyKeys(ctx context.Context, age time.Duration) (int, error) {
	// RFC 3339 UTC text orders as time does (to the second, which is plenty here).
	cutoff := time.Now().Add(-age).UTC().Format(timeFormat)
	total := 0
	for {
		var n int64
		err := r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE idempotency_key IN
				(SELECT idempotency_key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, cutoff, purgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}
