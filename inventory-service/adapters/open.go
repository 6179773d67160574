package adapters

import (
	"context"
	"database/sql"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"

	"github.com/edmshop/edm-shop/platform/sqlite"
)

// MaxOpenConns bounds the MySQL pool: one connection per partition of the consumed topic (12,
// kafka.DefaultPartitions, each handled at most once at a time) plus room for the HTTP API and
// the outbox relay. A replica past it waits for a connection instead of exhausting the server's
// max_connections as replicas are added.
const MaxOpenConns = 12 + 8

// NewMySQLRepository connects to MySQL 8.4 or MariaDB 10.11 with dsn (go-sql-driver format, e.g.
// inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true), creates the tables if
// they are missing and seeds the catalogue where products are missing.
func NewMySQLRepository(ctx context.Context, dsn string) (*SQLRepository, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	repo, err := open(ctx, db, dialect{
		schema:       "mysql",
		insertIgnore: "INSERT IGNORE",
		forUpdate:    " FOR UPDATE",
		txOptions:    &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return repo, nil
}

// NewSQLiteRepository opens (creating it if needed) the SQLite database file at path (or
// ":memory:"), creates the tables if they are missing and seeds the catalogue where products
// are missing.
func NewSQLiteRepository(ctx context.Context, path string) (*SQLRepository, error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	repo, err := open(ctx, db, dialect{schema: "sqlite", insertIgnore: "INSERT OR IGNORE"})
	if err != nil {
		db.Close()
		return nil, err
	}
	return repo, nil
}
