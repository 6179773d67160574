// Package sqlite opens the embedded SQLite databases the sandbox uses in place of DynamoDB and
// MySQL, the same way for every service.
package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Open opens (creating it if needed) the database file at path, or a private in-memory
// database for ":memory:". Transactions begin IMMEDIATE, taking the write lock up front, so a
// read-then-write transaction never fails on a lock upgrade.
//
// The pool holds one connection: the sandbox is one process and SQLite has one writer anyway,
// and with a pool bursts of concurrent orders failed with SQLITE_BUSY despite busy_timeout.
// WAL is switched on once here, not per connection, because that pragma needs a lock of its own.
func Open(path string) (*sql.DB, error) {
	name := ":memory:"
	if path != ":memory:" {
		name = "file:" + (&url.URL{Path: path}).EscapedPath()
	}
	db, err := sql.Open("sqlite", name+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if path != ":memory:" {
		if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
			db.Close()
			return nil, fmt.Errorf("switch %s to WAL: %w", path, err)
		}
	}
	return db, nil
}
