package adapters

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/sqldb"
)

// The replicas of inventory-service share one MySQL outbox. Each relay claims the rows it is
// about to publish: claim_owner names the relay (outbox.NewOwner) and claim_until ends the
// claim, outbox.Lease after the read. A relay reads only rows unclaimed, whose claim expired,
// or its own (renewing the claim), so two live relays never publish the same row, and the rows
// of a replica that died are taken over once its lease expires. SQLite serves one process
// (the sandbox) and claims nothing.

// claimColumns are added to outboxes created before replicas shared them; MySQL has no ADD
// COLUMN IF NOT EXISTS, so the duplicate error says a column or index is there already.
var claimColumns = []string{
	"ADD COLUMN claim_owner VARCHAR(64) NOT NULL DEFAULT ''",
	"ADD COLUMN claim_until DATETIME(6) NULL",
	"ADD INDEX outbox_claim (claim_owner, id)",
}

func migrateClaims(ctx context.Context, db *sql.DB) error {
	for _, c := range claimColumns {
		if _, err := db.ExecContext(ctx, `ALTER TABLE outbox `+c); err != nil && !strings.Contains(strings.ToLower(err.Error()), "duplicate") {
			return fmt.Errorf("outbox %s: %w", c, err)
		}
	}
	return nil
}

// claimOutbox claims up to limit rows, oldest first, and returns those this relay holds. It
// runs on the relay's writer (sqldb.Writer.DoAlone), whose session is READ COMMITTED, so the
// claim locks only the rows it takes (a concurrent claim by another replica waits for them and
// then skips them, and no gap lock holds up the writers' inserts); its two statements are
// prepared once on that connection. They need no transaction together: the UPDATE commits the
// claim, and the SELECT reads what this relay holds, a live claim no other relay takes.
func (r *SQLRepository) claimOutbox(ctx context.Context, limit int) ([]outbox.Record, error) {
	var records []outbox.Record
	err := r.relayWrite(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET claim_owner = ?, claim_until = NOW(6) + INTERVAL ? MICROSECOND
		WHERE claim_owner = '' OR claim_owner = ? OR claim_until < NOW(6) ORDER BY id LIMIT ?`, r.owner, r.lease.Microseconds(), r.owner, limit); err != nil {
			return fmt.Errorf("claim outbox rows: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE claim_owner = ? AND claim_until >= NOW(6) ORDER BY id LIMIT ?`, r.owner, limit)
		if err != nil {
			return err
		}
		records, err = scanOutbox(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return records, nil
}
