package adapters

import (
	"context"
	"database/sql"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
	_ "modernc.org/sqlite"             // driver "sqlite"
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

// NewSQLiteRepository opens (creating it if needed) the SQLite database file at path in WAL
// mode, creates the tables if they are missing and seeds the catalogue where products are
// missing. Write transactions begin IMMEDIATE, so they take the write lock up front and wait
// up to 5 s for one another instead of failing on a lock upgrade. ":memory:" gives a private
// in-memory database on a single connection.
func NewSQLiteRepository(ctx context.Context, path string) (*SQLRepository, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // each connection would get its own empty database
	}
	repo, err := open(ctx, db, dialect{schema: "sqlite", insertIgnore: "INSERT OR IGNORE"})
	if err != nil {
		db.Close()
		return nil, err
	}
	return repo, nil
}
