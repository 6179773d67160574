package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/sqlite"
)

// TestOpenStoreMigratesBeforeReadersSeeTheSchema: what migrate creates is there for the
// readers, a write through the Writer is read back through Reads, and the store reopens.
func TestOpenStoreMigratesBeforeReadersSeeTheSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	migrate := func(db *sql.DB) error {
		_, err := db.Exec(`CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	}
	ctx := context.Background()
	s, err := sqlite.OpenStore(path, migrate)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Writer.Do(ctx, func(ctx context.Context, q sqldb.Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('a', 'b')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.OpenStore(path, migrate)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	var v string
	if err := s.Reads.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = 'a'`).Scan(&v); err != nil || v != "b" {
		t.Errorf("read back %q, %v; want b", v, err)
	}
}

// TestOpenStoreReturnsTheMigrationsError: a failed migration is returned as it is (the services
// wrap it with the table it was creating), and no store is.
func TestOpenStoreReturnsTheMigrationsError(t *testing.T) {
	errMigrate := errors.New("migrate")
	s, err := sqlite.OpenStore(filepath.Join(t.TempDir(), "s.db"), func(*sql.DB) error { return errMigrate })
	if err != errMigrate || s != nil {
		t.Errorf("OpenStore = %v, %v; want nil and the migration's error", s, err)
	}
}
