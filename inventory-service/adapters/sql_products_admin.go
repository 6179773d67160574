package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/sqldb"
)

// SetProduct implements app.ProductAdmin: in one transaction it locks the product row (as a
// reservation does), then creates the product or replaces its name, price, currency and
// available stock, and reads it back as Product shows it. Reservations are untouched, so what
// is available plus reserved changes by exactly the change of available stock. created
// reports whether the SKU was new.
func (r *SQLRepository) SetProduct(ctx context.Context, p domain.Product) (out domain.Product, created bool, err error) {
	err = r.writeKey(ctx, p.SKU, func(ctx context.Context, tx sqldb.Querier) error {
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM products WHERE sku = ?`+r.dialect.forUpdate, p.SKU).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			_, err = tx.ExecContext(ctx, `INSERT INTO products (sku, name, price, currency, available) VALUES (?, ?, ?, ?, ?)`,
				p.SKU, p.Name, p.Price, p.Currency, p.Available)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, price = ?, currency = ?, available = ? WHERE sku = ?`,
				p.Name, p.Price, p.Currency, p.Available, p.SKU); err != nil {
				return err
			}
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
	err = r.writeKey(ctx, sku, func(ctx context.Context, tx sqldb.Querier) error {
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
