package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/sqldb"
)

// SetProduct implements app.ProductAdmin: in one transaction it locks the product row (as a
// reservation does), then creates the product or replaces its name, price, currency and
// available stock, and reads it back as Product shows it. Reservations are untouched, so what
// is available plus reserved changes by exactly the change of available stock. created
// reports whether the SKU was new.
func (r *SQLRepository) SetProduct(ctx context.Context, p domain.Product) (out domain.Product, created bool, err error) {
	err = r.writeOperator(ctx, p.SKU, func(ctx context.Context, tx sqldb.Querier) error {
		created = false
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM products WHERE sku = ?`+r.dialect.forUpdate, p.SKU).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			_, err = tx.ExecContext(ctx, `INSERT INTO products (sku, name, price, currency, available) VALUES (?, ?, ?, ?, ?)`,
				p.SKU, p.Name, p.Price, p.Currency, p.Available)
			if err == nil {
				break
			}
			// Under READ COMMITTED another replica's PUT of the same new SKU can insert it
			// after the SELECT found nothing: then this PUT replaces it, as it would have a
			// moment later. Only a duplicate key: it fails the statement alone, while any
			// other error (a deadlock) may have ended the transaction, and what ran after it
			// would commit by itself.
			if !duplicateKey(err) || tx.QueryRowContext(ctx, `SELECT 1 FROM products WHERE sku = ?`+r.dialect.forUpdate, p.SKU).Scan(&one) != nil {
				return err
			}
			created = false
			fallthrough
		case err == nil:
			if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, price = ?, currency = ?, available = ? WHERE sku = ?`,
				p.Name, p.Price, p.Currency, p.Available, p.SKU); err != nil {
				return err
			}
		default:
			return err
		}
		out, err = scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.sku = ?`, p.SKU))
		return err
	})
	return out, created, err
}

// Restock implements app.ProductAdmin: in one transaction it adds quantity to the available
// stock of sku, with the row locked by the UPDATE itself, and reads the product back. An
// unknown SKU returns an error wrapping domain.ErrProductNotFound; stock that would pass
// domain.MaxStock returns a *domain.ValidationError and changes nothing.
func (r *SQLRepository) Restock(ctx context.Context, sku string, quantity int) (out domain.Product, err error) {
	err = r.writeOperator(ctx, sku, func(ctx context.Context, tx sqldb.Querier) error {
		var available int
		switch err := tx.QueryRowContext(ctx, `SELECT available FROM products WHERE sku = ?`+r.dialect.forUpdate, sku).Scan(&available); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%w: %s", domain.ErrProductNotFound, sku)
		case err != nil:
			return err
		}
		if available > domain.MaxStock-quantity {
			return &domain.ValidationError{Code: domain.CodeStockTooLarge,
				Message: fmt.Sprintf("available stock of %s would be %d, over the limit of %d", sku, available+quantity, domain.MaxStock)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE products SET available = available + ? WHERE sku = ?`, quantity, sku); err != nil {
			return err
		}
		out, err = scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.sku = ?`, sku))
		return err
	})
	return out, err
}

// writeOperator runs an operator's change as writeKey does, again (up to three times in all)
// when its transaction was rolled back whole, as a deadlock with another writer's group does
// on MySQL: the events the writers apply are retried by their consumers, but an operator's
// call would otherwise answer 500 for a change that can simply be made again.
func (r *SQLRepository) writeOperator(ctx context.Context, key string, fn func(ctx context.Context, tx sqldb.Querier) error) error {
	var err error
	for range 3 {
		if err = r.writeKey(ctx, key, fn); !rolledBack(err) {
			return err
		}
	}
	return err
}

// duplicateKey reports whether err is MySQL's duplicate-key error (1062).
func duplicateKey(err error) bool {
	var dup *mysql.MySQLError
	return errors.As(err, &dup) && dup.Number == 1062
}

// rolledBack reports whether err says nothing of a transaction was written: its group was
// rolled back, or it was a deadlock's victim (MySQL rolls the whole transaction back).
func rolledBack(err error) bool {
	var deadlock *mysql.MySQLError
	return errors.Is(err, sqldb.ErrRolledBack) || errors.As(err, &deadlock) && deadlock.Number == 1213
}
