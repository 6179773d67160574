package adapters

import (
	"context"
	"database/sql"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"

	"github.com/edmshop/edm-shop/platform/sqlite"
)

// NewMySQLRepository connects to MySQL 8.4 or MariaDB 10.11 with dsn (go-sql-driver format, e.g.
// inventory:inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true), creates the tables if
// they are missing and seeds the catalogue where products are missing.
func NewMySQLRepository(ctx context.Context, dsn string) (*SQLRepository, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetMaxIdleConns(16)
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
