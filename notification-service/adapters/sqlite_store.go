// Package adapters holds notification-service's store (SQLite), its SMTP mailer and the
// mailbox client that asks a Mailpit-compatible API whether an e-mail arrived.
package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/sqlite"
)

const schema = `CREATE TABLE IF NOT EXISTS notifications (
	transaction_id TEXT PRIMARY KEY,
	message_id     TEXT NOT NULL,
	state          TEXT NOT NULL,
	attempts       INTEGER NOT NULL,
	deferrals      INTEGER NOT NULL DEFAULT 0,
	reason         TEXT NOT NULL DEFAULT '',
	claimed_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
)`

const timeFormat = time.RFC3339Nano

// SQLiteStore is an app.Store in one SQLite file. The file is the dedup that survives
// restarts, so it belongs on a volume wherever the service runs in a container. Claims and
// settlements go through a group-commit writer (platform/sqldb) with prepared statements, so
// the orders handled at once share one commit; reads use a pool of their own.
type SQLiteStore struct {
	store *sqlite.Store
}

var _ app.Store = (*SQLiteStore)(nil)

// NewSQLiteStore opens (creating if needed, with its directory) the store at path.
func NewSQLiteStore(path string) (*SQLiteStore, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	store, err := sqlite.OpenStore(path, func(db *sql.DB) error {
		if _, err := db.Exec(schema); err != nil {
			return fmt.Errorf("create notifications table in %s: %w", path, err)
		}
		// A file made before deferrals were counted gets the column.
		var has int
		if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('notifications') WHERE name = 'deferrals'`).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if _, err := db.Exec(`ALTER TABLE notifications ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0`); err != nil {
				return fmt.Errorf("add deferrals to the notifications of %s: %w", path, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &SQLiteStore{store: store}, nil
}

// Close closes the database once the writes handed to it are done.
func (s *SQLiteStore) Close() error { return s.store.Close() }

// Ping implements app.Store.
func (s *SQLiteStore) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Claim implements app.Store in one transaction of the writer, which is SQLite's only writer,
// so two claims of one order cannot both see nothing recorded.
func (s *SQLiteStore) Claim(ctx context.Context, transactionID, messageID string, at time.Time) (app.State, error) {
	now := at.UTC().Format(timeFormat)
	var before app.State
	err := s.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM notifications WHERE transaction_id = ?`, transactionID).Scan(&state)
		before = app.State(state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO notifications (transaction_id, message_id, state, attempts, claimed_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)`,
				transactionID, messageID, string(app.StateSending), now, now)
			return err
		case err != nil:
			return err
		case before == app.StateSending:
			_, err = tx.ExecContext(ctx, `UPDATE notifications SET attempts = attempts + 1, claimed_at = ?, updated_at = ? WHERE transaction_id = ?`,
				now, now, transactionID)
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return before, nil
}

// Settle implements app.Store.
func (s *SQLiteStore) Settle(ctx context.Context, transactionID string, state app.State, reason string, at time.Time) error {
	return s.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, reason = ?, updated_at = ? WHERE transaction_id = ?`,
			string(state), reason, at.UTC().Format(timeFormat), transactionID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("settle %s: %w", transactionID, app.ErrNotFound)
		}
		return nil
	})
}

// Defer implements app.Store.
func (s *SQLiteStore) Defer(ctx context.Context, transactionID string, at time.Time) (int, error) {
	var n int
	err := s.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		return tx.QueryRowContext(ctx, `UPDATE notifications SET deferrals = deferrals + 1, updated_at = ? WHERE transaction_id = ? RETURNING deferrals`,
			at.UTC().Format(timeFormat), transactionID).Scan(&n)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("defer %s: %w", transactionID, app.ErrNotFound)
	}
	return n, err
}

// Get implements app.Store.
func (s *SQLiteStore) Get(ctx context.Context, transactionID string) (app.Notification, error) {
	var n app.Notification
	var state, claimed, updated string
	err := s.store.Reads.QueryRowContext(ctx, `SELECT transaction_id, message_id, state, attempts, reason, claimed_at, updated_at FROM notifications WHERE transaction_id = ?`, transactionID).
		Scan(&n.TransactionID, &n.MessageID, &state, &n.Attempts, &n.Reason, &claimed, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Notification{}, app.ErrNotFound
	}
	if err != nil {
		return app.Notification{}, err
	}
	n.State = app.State(state)
	if n.ClaimedAt, err = time.Parse(timeFormat, claimed); err != nil {
		return app.Notification{}, err
	}
	if n.UpdatedAt, err = time.Parse(timeFormat, updated); err != nil {
		return app.Notification{}, err
	}
	return n, nil
}
