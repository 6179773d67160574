package adapters

import (
	"context"
	"fmt"
)

// migrate brings a database created by an earlier version to the current schema, which the
// schema files give a new database: products.reserved, filled from the reservations that hold
// stock, and (MySQL) the index the dedup purge reads. It runs at every start and changes
// nothing the second time. Run it before any instance of the new version serves.
func (r *SQLRepository) migrate(ctx context.Context) error {
	has, err := r.has(ctx, r.dialect.hasColumn, "products", "reserved")
	if err != nil {
		return err
	}
	if !has {
		if _, err := r.db.ExecContext(ctx, `ALTER TABLE products ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("add products.reserved: %w", err)
		}
		if _, err := r.db.ExecContext(ctx, `UPDATE products SET reserved = COALESCE((SELECT SUM(r.quantity) FROM reservations r WHERE r.sku = products.sku AND r.status = 'ACTIVE'), 0)`); err != nil {
			return fmt.Errorf("fill products.reserved: %w", err)
		}
	}
	if r.dialect.hasIndex == "" {
		return nil // the schema file creates it IF NOT EXISTS
	}
	if has, err = r.has(ctx, r.dialect.hasIndex, "processed_events", "processed_events_by_time"); err != nil || has {
		return err
	}
	if _, err := r.db.ExecContext(ctx, `CREATE INDEX processed_events_by_time ON processed_events (processed_at)`); err != nil {
		return fmt.Errorf("index processed_events by time: %w", err)
	}
	return nil
}

// has runs a query counting a table's column or index by name.
func (r *SQLRepository) has(ctx context.Context, query, table, name string) (bool, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, query, table, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for %s.%s: %w", table, name, err)
	}
	return n > 0, nil
}
