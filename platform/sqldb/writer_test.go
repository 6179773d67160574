package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/sqlite"
)

// TestWriterGroupsTransactionsAndKeepsEachAllOrNothing runs many transactions at once through
// one Writer: each inserts two rows, and every third fails after its first insert. The ones that
// succeeded must be there in full, the failed ones not at all, and each caller must get its own
// outcome.
func TestWriterGroupsTransactionsAndKeepsEachAllOrNothing(t *testing.T) {
	s := openStore(t, `CREATE TABLE rows (tx INTEGER NOT NULL, n INTEGER NOT NULL)`)
	w := s.Writer
	errBoom := errors.New("boom")
	const txs = 300
	results := make([]error, txs)
	var wg sync.WaitGroup
	for i := range txs {
		wg.Go(func() {
			results[i] = w.Do(context.Background(), func(ctx context.Context, q sqldb.Querier) error {
				if _, err := q.ExecContext(ctx, `INSERT INTO rows (tx, n) VALUES (?, 1)`, i); err != nil {
					return err
				}
				if i%3 == 0 {
					return fmt.Errorf("tx %d: %w", i, errBoom)
				}
				_, err := q.ExecContext(ctx, `INSERT INTO rows (tx, n) VALUES (?, 2)`, i)
				return err
			})
		})
	}
	wg.Wait()
	read := s.Read
	for i, err := range results {
		var n int
		if err := read.QueryRow(`SELECT COUNT(*) FROM rows WHERE tx = ?`, i).Scan(&n); err != nil {
			t.Fatal(err)
		}
		switch {
		case i%3 == 0 && (!errors.Is(err, errBoom) || n != 0):
			t.Errorf("tx %d: error %v and %d rows, want its own error and none", i, err, n)
		case i%3 != 0 && (err != nil || n != 2):
			t.Errorf("tx %d: error %v and %d rows, want success and 2", i, err, n)
		}
	}
}

// TestWriterCommitsWorkWhoseCallerGaveUp: a caller whose context is cancelled still learns
// the outcome, and a cancelled context does not interrupt the group's statements.
func TestWriterCommitsWorkWhoseCallerGaveUp(t *testing.T) {
	s := openStore(t, `CREATE TABLE rows (n INTEGER NOT NULL)`)
	db, w := s.DB, s.Writer
	ctx, cancel := context.WithCancel(context.Background())
	err := w.Do(ctx, func(ctx context.Context, q sqldb.Querier) error {
		cancel()
		_, err := q.ExecContext(ctx, `INSERT INTO rows (n) VALUES (1)`)
		return err
	})
	var n int
	if qerr := db.QueryRow(`SELECT COUNT(*) FROM rows`).Scan(&n); qerr != nil {
		t.Fatal(qerr)
	}
	if err != nil || n != 1 {
		t.Errorf("Do = %v with %d rows, want nil and 1", err, n)
	}
}

// TestWriterAnswersNothingFromATransactionItRolledBack lines up three jobs in one group: the
// first inserts a row, the second finds that row and answers from it (as a second order with
// the same idempotency key answers with the first's id), the third breaks the transaction. The
// row is gone, so the second job must not keep its answer either; and the third's own error (a
// dead letter's ErrInvalid, say) must not become the others'.
func TestWriterAnswersNothingFromATransactionItRolledBack(t *testing.T) {
	s := openStore(t, `CREATE TABLE rows (k INTEGER NOT NULL)`)
	w := s.Writer
	errFound, errBroke := errors.New("found the row"), errors.New("the transaction broke")
	started, release := make(chan struct{}), make(chan struct{})
	results := make([]error, 4)
	var wg sync.WaitGroup
	jobs := []func(ctx context.Context, q sqldb.Querier) error{
		func(context.Context, sqldb.Querier) error { close(started); <-release; return nil },
		func(ctx context.Context, q sqldb.Querier) error {
			_, err := q.ExecContext(ctx, `INSERT INTO rows (k) VALUES (1)`)
			return err
		},
		func(ctx context.Context, q sqldb.Querier) error {
			var n int
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM rows WHERE k = 1`).Scan(&n); err != nil {
				return err
			}
			if n == 1 {
				return errFound
			}
			return nil
		},
		func(ctx context.Context, q sqldb.Querier) error {
			// Ends the transaction under the writer, as a COMMIT that fails (a full disk)
			// ends it for the whole group.
			if _, err := q.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return fmt.Errorf("job 3: %w", errBroke)
		},
	}
	for i, fn := range jobs {
		wg.Go(func() { results[i] = w.Do(context.Background(), fn) })
		if i == 0 {
			<-started // the writer holds the first job, so the others queue up behind it
			continue
		}
		waitFor(t, func() bool { return w.Queued() == i }) // in this order
	}
	close(release)
	wg.Wait()
	var n int
	if err := s.Read.QueryRow(`SELECT COUNT(*) FROM rows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows, want the group rolled back", n)
	}
	for i, err := range results[1:] {
		if !errors.Is(err, sqldb.ErrRolledBack) || errors.Is(err, errFound) || errors.Is(err, errBroke) {
			t.Errorf("job %d of the rolled-back group: %v, want the transaction's error alone, ErrRolledBack", i+1, err)
		}
	}
}

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriterDoAloneCommitsEachStatement: a DoAlone job runs outside any transaction, so what it
// did before it failed stays, and the writer goes on with the next jobs (grouped ones too).
func TestWriterDoAloneCommitsEachStatement(t *testing.T) {
	s := openStore(t, `CREATE TABLE rows (n INTEGER NOT NULL)`)
	db, w := s.DB, s.Writer
	insert := func(n int) func(ctx context.Context, q sqldb.Querier) error {
		return func(ctx context.Context, q sqldb.Querier) error {
			_, err := q.ExecContext(ctx, `INSERT INTO rows (n) VALUES (?)`, n)
			return err
		}
	}
	errBoom := errors.New("boom")
	if err := w.DoAlone(context.Background(), func(ctx context.Context, q sqldb.Querier) error {
		if err := insert(1)(ctx, q); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("DoAlone = %v, want its own error", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = w.DoAlone(context.Background(), insert(10+i))
			} else {
				errs[i] = w.Do(context.Background(), insert(10+i))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("job %d: %v", i, err)
		}
	}
	var n, sum int
	if err := db.QueryRow(`SELECT COUNT(*), SUM(n) FROM rows`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 5 || sum != 1+10+11+12+13 {
		t.Errorf("%d rows summing to %d, want the failed job's first row and the four others", n, sum)
	}
}

// openStore opens a SQLite store (sqlite.OpenStore) in a temporary file with the table schema
// creates; it is closed when the test ends.
func openStore(t *testing.T, schema string) *sqlite.Store {
	s, err := sqlite.OpenStore(filepath.Join(t.TempDir(), "w.db"), func(db *sql.DB) error {
		_, err := db.Exec(schema)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSQLiteWriterKeepsSavepointJournalsInMemory checks the writer's connection setting that keeps
// the statement journal of grouped transactions' savepoints in memory: SQLite otherwise spills
// it to a temporary file past 64 KiB, tens of thousands of writes a second under load.
func TestSQLiteWriterKeepsSavepointJournalsInMemory(t *testing.T) {
	s := openStore(t, `CREATE TABLE rows (tx INTEGER NOT NULL)`)
	var store int
	if err := s.Writer.Do(context.Background(), func(ctx context.Context, q sqldb.Querier) error {
		return q.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&store)
	}); err != nil {
		t.Fatal(err)
	}
	if store != 2 { // 2: MEMORY
		t.Fatalf("temp_store = %d on the writer's connection, want 2 (MEMORY)", store)
	}
}
