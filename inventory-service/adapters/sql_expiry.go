package adapters

import (
	"context"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/sqldb"
)

// Expire implements app.Repository: in one transaction it records the transaction's tombstone
// (so a later Reserve reserves nothing), reads its reservation, asks decide, and puts back the
// lines still active.
func (r *SQLRepository) Expire(ctx context.Context, eventID, transactionID string, decide app.ReleaseFunc) (bool, error) {
	return r.apply(ctx, eventID, transactionID, func(ctx context.Context, tx sqldb.Querier) ([]kafka.Message, error) {
		if _, err := tx.ExecContext(ctx, r.dialect.insertIgnore+` INTO expired_transactions (transaction_id) VALUES (?)`, transactionID); err != nil {
			return nil, err
		}
		lines, status, err := r.lockReservation(ctx, tx, transactionID)
		if err != nil {
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

// reservedOrExpired reports whether the transaction holds a reservation already or its order
// expired (it has a tombstone): either way Reserve reserves nothing.
func (r *SQLRepository) reservedOrExpired(ctx context.Context, tx sqldb.Querier, transactionID string) (bool, error) {
	var done bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM reservations WHERE transaction_id = ?) OR EXISTS (SELECT 1 FROM expired_transactions WHERE transaction_id = ?)`,
		transactionID, transactionID).Scan(&done)
	return done, err
}

// lockReservation reads (and locks) the transaction's reservation lines in SKU order, and
// whether they still hold stock (StatusReleased when there are none).
func (r *SQLRepository) lockReservation(ctx context.Context, tx sqldb.Querier, transactionID string) ([]domain.Line, domain.Status, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sku, quantity, unit_price, status FROM reservations WHERE transaction_id = ? ORDER BY sku`+r.dialect.forUpdate, transactionID)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var lines []domain.Line
	status := domain.StatusReleased
	for rows.Next() {
		var l domain.Line
		var s domain.Status
		if err := rows.Scan(&l.SKU, &l.Quantity, &l.UnitPrice, &s); err != nil {
			return nil, "", err
		}
		lines = append(lines, l)
		if s == domain.StatusActive {
			status = domain.StatusActive // rows change status together
		}
	}
	return lines, status, rows.Err()
}
