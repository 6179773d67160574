package sqlite

import (
	"context"
	"database/sql"

	"github.com/edmshop/edm-shop/platform/sqldb"
)

// Store is a service's SQLite database as its adapter uses it: writes go through one
// group-commit Writer on the writing handle, reads through prepared statements on a pool of
// read-only connections of their own, so reads never queue behind write transactions.
type Store struct {
	// DB is the writing handle (Open): the Writer's connection plus one for what does not
	// write through the Writer (schema, health checks, occasional scans).
	DB *sql.DB
	// Read is the pool of read-only connections (OpenReader).
	Read *sql.DB
	// Reads prepares each statement run on Read once.
	Reads *sqldb.Stmts
	// Writer commits concurrent write transactions together.
	Writer *sqldb.Writer
}

// OpenStore opens (creating it if needed) the database file at path, runs migrate on the
// writing handle (the service's schema and migrations, whose errors OpenStore returns as they
// are), then opens the readers and starts the Writer. migrate runs before the readers open
// because they need the file in WAL mode and its tables in place.
func OpenStore(path string, migrate func(db *sql.DB) error) (*Store, error) {
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, err
	}
	read, err := OpenReader(path)
	if err != nil {
		db.Close()
		return nil, err
	}
	writer, err := sqldb.NewWriter(context.Background(), db, sqldb.SQLite)
	if err != nil {
		read.Close()
		db.Close()
		return nil, err
	}
	return &Store{DB: db, Read: read, Reads: sqldb.NewStmts(read), Writer: writer}, nil
}

// Close closes the database once the writes handed to the Writer are done, in the reverse
// order of OpenStore.
func (s *Store) Close() error {
	s.Writer.Close()
	s.Reads.Close()
	s.Read.Close()
	return s.DB.Close()
}

// Ping reports whether the database can be read.
func (s *Store) Ping(ctx context.Context) error { return s.Read.PingContext(ctx) }
