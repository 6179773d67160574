package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/edmshop/edm-shop/platform/sqlite"
)

func TestConcurrentWritersNeverSeeBusy(t *testing.T) {
	// A file name that needs escaping in a URI.
	dir := filepath.Join(t.TempDir(), "odd ?#% name")
	db, err := sqlite.Open(dir + ".db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE counter (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			tx, err := db.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			var n int
			if err := tx.QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil {
				t.Error(err)
			}
			if _, err := tx.Exec(`UPDATE counter SET n = ?`, n+1); err != nil {
				t.Error(err)
			}
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := db.QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil || n != 200 {
		t.Errorf("counter = %d (%v), want 200", n, err)
	}
}

func TestOpenUsesWALWithNormalSync(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var sync int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 1 {
		t.Errorf("journal_mode %s, synchronous %d; want wal and 1 (NORMAL)", mode, sync)
	}
	if _, err := sqlite.Open(":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded; readers could not share it")
	}
}
