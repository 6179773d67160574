package adapters

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// sqliteCreatedKey is created_at with its fraction padded to nine digits: RFC3339Nano drops
// trailing zeros, so the stored text does not sort by time ("...05Z" after "...05.5Z"). The
// index orders_by_customer (schema/sqlite.sql) is on this same expression, which SQLite uses
// only when a query spells it identically.
const sqliteCreatedKey = `(substr(created_at, 1, 19) || CASE WHEN substr(created_at, 20, 1) = '.' ` +
	`THEN substr(rtrim(substr(created_at, 20), 'Z') || '000000000', 1, 10) ELSE '.000000000' END)`

// sqliteCreatedKeyFormat formats a time as sqliteCreatedKey computes it from created_at.
const sqliteCreatedKeyFormat = "2006-01-02T15:04:05.000000000"

// ListOrders implements app.Repository.
func (r *SQLiteRepository) ListOrders(ctx context.Context, customerID string, limit int, cursor string) (_ []domain.Order, _ string, err error) {
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "ListOrders")
	defer func() { telemetry.EndSpan(span, err) }()
	after, err := decodeListCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	query := `SELECT transaction_id, customer_id, payment_method, items, status, reason, amount, currency, created_at, updated_at, history, version
		FROM orders WHERE customer_id = ?`
	args := []any{customerID}
	if cursor != "" {
		query += ` AND (` + sqliteCreatedKey + `, transaction_id) < (?, ?)`
		args = append(args, after.CreatedAt.UTC().Format(sqliteCreatedKeyFormat), after.TransactionID)
	}
	// One more than asked tells whether there is a next page.
	query += ` ORDER BY ` + sqliteCreatedKey + ` DESC, transaction_id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := r.store.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var orders []domain.Order
	for rows.Next() {
		o, err := scanSQLiteOrder(rows)
		if err != nil {
			return nil, "", err
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(orders) <= limit {
		return orders, "", nil
	}
	last := orders[limit-1]
	return orders[:limit], listCursor{CreatedAt: last.CreatedAt, TransactionID: last.TransactionID}.encode(), nil
}

// scanSQLiteOrder reads one orders row selected in GetOrder's column order.
func scanSQLiteOrder(rows *sql.Rows) (domain.Order, error) {
	var (
		o                      domain.Order
		items, history, status string
		createdAt, updatedAt   string
		amount                 sql.NullInt64
		currency               sql.NullString
	)
	if err := rows.Scan(&o.TransactionID, &o.CustomerID, &o.PaymentMethod, &items, &status, &o.Reason, &amount, &currency, &createdAt, &updatedAt, &history, &o.Version); err != nil {
		return domain.Order{}, err
	}
	o.Status = domain.Status(status)
	o.Amount, o.Currency = amount.Int64, currency.String
	var itemRecs []itemRecord
	var historyRecs []historyRecord
	if err := json.Unmarshal([]byte(items), &itemRecs); err != nil {
		return domain.Order{}, fmt.Errorf("order %s items: %w", o.TransactionID, err)
	}
	if err := json.Unmarshal([]byte(history), &historyRecs); err != nil {
		return domain.Order{}, fmt.Errorf("order %s history: %w", o.TransactionID, err)
	}
	o.Items, o.History = fromItemRecords(itemRecs), fromHistoryRecords(historyRecs)
	var err error
	if o.CreatedAt, err = time.Parse(timeFormat, createdAt); err != nil {
		return domain.Order{}, err
	}
	if o.UpdatedAt, err = time.Parse(timeFormat, updatedAt); err != nil {
		return domain.Order{}, err
	}
	return o, nil
}
