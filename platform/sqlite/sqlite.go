// Package sqlite opens the embedded SQLite databases the sandbox uses in place of DynamoDB and
// MySQL, the same way for every service.
package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // driver "sqlite3": SQLite's C library through cgo
)

// readers is how many connections OpenReader keeps: in WAL mode readers never wait for the
// writer, so HTTP reads and outbox scans do not queue behind write transactions.
const readers = 4

// Open opens (creating it if needed) the database file at path for writing. A database in
// memory cannot be shared by the writer and the readers, so ":memory:" is refused.
// Transactions begun with BeginTx are IMMEDIATE, taking the write lock up front, so a
// read-then-write transaction never fails on a lock upgrade.
//
// Writes go through one connection, a Writer's (group commit): SQLite has one writer anyway, and
// with a pool of writers bursts of concurrent orders failed with SQLITE_BUSY despite
// busy_timeout. The pool holds a second connection so that what does not write through the
// Writer (schema, health checks) does not wait for it.
// WAL is switched on once here, not per connection, because that pragma needs a lock of its own.
// With WAL, synchronous=NORMAL syncs the log at checkpoints instead of at every commit: a commit
// survives a crash of the process (the fault round SIGKILLs services), and only a power loss can
// take back the last transactions. A sync per commit made the disk the sandbox's bottleneck.
func Open(path string) (*sql.DB, error) {
	if path == ":memory:" || path == "" {
		return nil, fmt.Errorf("open sqlite %q: a database file is needed", path)
	}
	db, err := sql.Open("sqlite3", dsn(path)+"?"+pragmas+"&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(2)
	if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
		db.Close()
		return nil, fmt.Errorf("switch %s to WAL: %w", path, err)
	}
	return db, nil
}

// OpenReader opens a pool of read-only connections to the database file at path, which Open
// must have switched to WAL first.
func OpenReader(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dsn(path)+"?"+pragmas+"&_query_only=1")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	db.SetMaxOpenConns(readers)
	db.SetMaxIdleConns(readers)
	return db, nil
}

// pragmas hold for every connection. cache_size (in KiB when negative) keeps the pages of a few
// hundred thousand orders' rows in memory: with SQLite's default of 2 MiB, a reservation cost
// three times as much once the tables held 200,000 orders.
const pragmas = "_busy_timeout=5000&_cache_size=-65536"

func dsn(path string) string { return "file:" + (&url.URL{Path: path}).EscapedPath() }
