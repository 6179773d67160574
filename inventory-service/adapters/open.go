package adapters

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"

	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/sqlite"
)

// mysqlWriters is how many connections write at once, each committing a group of
// transactions (sqldb.Pool): a reservation waits for a few statements' round trips, so one
// writer left the database idle between them.
const mysqlWriters = 4

// MaxOpenConns bounds the MySQL pool, so that replicas added later wait for a connection
// instead of exhausting the server's max_connections: enough for the group-commit writers
// (mysqlWriters), the consumer's concurrent reads, the HTTP API and the outbox relay's writer.
const MaxOpenConns = 12 + 8 + 1

// NewMySQLRepository connects to MySQL 8.4 or MariaDB 10.11 with dsn (go-sql-driver format, e.g.
// inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true), creates the tables if
// they are missing and seeds the catalogue where products are missing. Network timeouts the DSN
// does not set get WithMySQLTimeouts' defaults.
func NewMySQLRepository(ctx context.Context, dsn string) (*SQLRepository, error) {
	dsn, err := WithMySQLTimeouts(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	repo, err := open(ctx, db, dialect{
		schema:         "mysql",
		insertIgnore:   "INSERT IGNORE",
		forUpdate:      " FOR UPDATE",
		forShare:       " LOCK IN SHARE MODE",
		txOptions:      &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		upsertProduct:  `ON DUPLICATE KEY UPDATE name = VALUES(name), price = VALUES(price), currency = VALUES(currency), available = VALUES(available)`,
		hasColumn:      `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`,
		hasIndex:       `SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?`,
		purgeProcessed: `DELETE FROM processed_events WHERE processed_at < NOW(6) - INTERVAL ? MICROSECOND LIMIT ?`,
		purgeAge:       func(d time.Duration) any { return d.Microseconds() },
		claims:         true,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	if repo.writers, err = sqldb.NewPool(ctx, db, sqldb.MySQL, mysqlWriters); err != nil {
		db.Close()
		return nil, err
	}
	if repo.relay, err = sqldb.NewWriter(ctx, db, sqldb.MySQL); err != nil {
		repo.writers.Close()
		db.Close()
		return nil, err
	}
	repo.closers = []func(){repo.writers.Close, repo.relay.Close}
	return repo, nil
}

// NewSQLiteRepository opens (creating it if needed) the SQLite database file at path (or
// ":memory:"), creates the tables if they are missing and seeds the catalogue where products
// are missing. Concurrent write transactions are committed together (sqlite.Writer); reads use
// a pool of their own.
func NewSQLiteRepository(ctx context.Context, path string) (*SQLRepository, error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	repo, err := open(ctx, db, dialect{
		schema:        "sqlite",
		insertIgnore:  "INSERT OR IGNORE",
		upsertProduct: `ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price = excluded.price, currency = excluded.currency, available = excluded.available`,
		hasColumn:     `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`,
		// processed_at is CURRENT_TIMESTAMP's text, which orders as time does.
		purgeProcessed: `DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM processed_events WHERE processed_at < datetime('now', ?) LIMIT ?)`,
		purgeAge:       func(d time.Duration) any { return fmt.Sprintf("-%d seconds", int64(d.Seconds())) },
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	read, err := sqlite.OpenReader(path)
	if err != nil {
		db.Close()
		return nil, err
	}
	if repo.writers, err = sqldb.NewPool(ctx, db, sqldb.SQLite, 1); err != nil {
		read.Close()
		db.Close()
		return nil, err
	}
	reads := sqldb.NewStmts(read)
	repo.read = reads
	repo.closers = []func(){repo.writers.Close, reads.Close, func() { read.Close() }}
	return repo, nil
}
