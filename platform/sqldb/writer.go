package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// maxGroup bounds how many transactions one commit carries.
const maxGroup = 256

// Dialect is how a database starts a writer's connection and its transactions.
type Dialect struct {
	// Setup runs once on each new writer connection (session settings).
	Setup []string
	// Begin starts a write transaction ("BEGIN IMMEDIATE", "START TRANSACTION").
	Begin string
	// PrepareControl prepares the transaction-control statements too (SQLite); MySQL cannot
	// prepare every one of them.
	PrepareControl bool
	// ReleaseSavepoints releases a job's savepoint once the job succeeded (SQLite). SQLite nests
	// savepoints of the same name, and each open one costs it bookkeeping on every page written
	// after it; on MySQL the next SAVEPOINT replaces the last, and a RELEASE would be one more
	// round trip per job.
	ReleaseSavepoints bool
}

// SQLite begins transactions IMMEDIATE: the write lock is taken up front. The writer, the only
// connection that commits, checkpoints the WAL every 10,000 pages (40 MB) instead of SQLite's
// 1,000: the pages every order touches (the outbox's, the newest orders', a hot product's) are
// copied back into the database once per checkpoint however often they changed, so rarer
// checkpoints copy fewer pages (about -3% CPU per order in the sandbox, medians of 2 and 3 runs).
// temp_store=MEMORY keeps the statement journal of the group's savepoints in memory: SQLite
// spills it past 64 KiB to a temporary file in /var/tmp, and the sandbox's writers then made
// ~50,000 write calls a second to the disk's file system (perf trace; -9% CPU per order).
var SQLite = Dialect{Setup: []string{"PRAGMA wal_autocheckpoint=10000", "PRAGMA temp_store=MEMORY"}, Begin: "BEGIN IMMEDIATE", PrepareControl: true, ReleaseSavepoints: true}

// MySQL runs a writer's transactions READ COMMITTED, as InnoDB then takes no gap locks. A
// statement waits at most MySQLLockWait for a row lock.
var MySQL = Dialect{Setup: []string{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d", int(MySQLLockWait/time.Second))}, Begin: "START TRANSACTION"}

// MySQLLockWait bounds a writer's wait for a row lock (InnoDB's default is 50 s), below the
// read timeout the services give their connections (8 s): then the server ends the wait and
// the job fails alone, its group's transaction still usable. Past the read timeout instead,
// the driver drops the connection while the server, unaware, keeps the transaction and the
// locks of the jobs before it until its own wait ends, and the retries queue behind them.
const MySQLLockWait = 5 * time.Second

// ErrRolledBack is in the error chain of every job whose group's transaction failed as a whole
// before its COMMIT (a deadlock, on MySQL, rolls back the whole transaction): nothing of the
// job was written, so running it again is safe.
var ErrRolledBack = errors.New("the group's transaction was rolled back, nothing of it written")

// Writer runs write transactions on one connection of its own, grouping the ones that arrive
// together into one database transaction (group commit): each caller's work runs in a savepoint
// of its own, so it applies entirely or not at all and its error is its own, and one commit
// makes the whole group durable. With SQLite's single writer, a commit per event made the
// commits, not the work, the limit of the sandbox; with MySQL, every order of a SKU waited for
// the previous one's commit (its flush to disk) on the SKU's row lock. Statements are prepared
// once on the writer's connection.
type Writer struct {
	db      *sql.DB
	dialect Dialect
	conn    *sql.Conn // nil after a failure, until the next group reconnects
	stmts   *Stmts
	jobs    chan *job
	done    chan struct{}
}

type job struct {
	ctx context.Context
	// deadline is the caller's, if it has one: a new connection for the job is given up at it.
	deadline    time.Time
	hasDeadline bool
	fn          func(ctx context.Context, q Querier) error
	err         error
	done        chan struct{}
	// alone runs fn outside any transaction (DoAlone).
	alone bool
}

// NewWriter starts a writer over db; Close stops it.
func NewWriter(ctx context.Context, db *sql.DB, d Dialect) (*Writer, error) {
	w := &Writer{db: db, dialect: d, jobs: make(chan *job, maxGroup), done: make(chan struct{})}
	if err := w.connect(ctx); err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

func (w *Writer) connect(ctx context.Context) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	for _, s := range w.dialect.Setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			conn.Close()
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	w.conn, w.stmts = conn, NewStmts(conn)
	return nil
}

// disconnect drops a connection whose state is unknown after a failure.
func (w *Writer) disconnect() {
	if w.conn != nil {
		w.stmts.Close()
		w.conn.Raw(func(any) error { return driver.ErrBadConn }) // so the pool does not reuse it
		w.conn.Close()
		w.conn = nil
	}
}

// Close stops the writer once the transactions already handed to it have run, and gives its
// connection back.
func (w *Writer) Close() {
	close(w.jobs)
	<-w.done
	if w.conn != nil {
		w.stmts.Close()
		w.conn.Close()
	}
}

// Do runs fn in a transaction and returns once it is committed (nil) or rolled back (the
// error). fn sees what transactions committed before it, and those grouped before it. fn must
// not keep q, and must run its statements with the context it is given: that is ctx without
// its cancellation, because a statement interrupted by a cancelled context would roll back the
// whole group's transaction. q prepares each query once: build queries from a small set of
// strings (InList for IN lists). Should the writer need a new connection first, it gives up at
// ctx's deadline (at the latest caller's, for a group).
func (w *Writer) Do(ctx context.Context, fn func(ctx context.Context, q Querier) error) error {
	return w.do(ctx, &job{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan struct{})})
}

// DoAlone runs fn on the writer's connection, in its turn, outside any transaction: each of
// its statements commits by itself. It is for work whose statements need not apply together
// (an outbox relay's claim, an UPDATE and then a SELECT of what it took; a DELETE), and saves
// the BEGIN and COMMIT a transaction of its own would cost.
func (w *Writer) DoAlone(ctx context.Context, fn func(ctx context.Context, q Querier) error) error {
	return w.do(ctx, &job{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan struct{}), alone: true})
}

func (w *Writer) do(ctx context.Context, j *job) error {
	j.deadline, j.hasDeadline = ctx.Deadline()
	select {
	case w.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-j.done // not abandoned on cancellation: the caller must learn whether it committed
	return j.err
}

func (w *Writer) run() {
	defer close(w.done)
	for first := range w.jobs {
		group := []*job{first}
	more:
		for len(group) < maxGroup {
			select {
			case j, ok := <-w.jobs:
				if !ok {
					break more
				}
				group = append(group, j)
			default:
				break more
			}
		}
		start := 0
		for i, j := range group {
			if j.alone {
				if i > start {
					w.commit(group[start:i])
				}
				w.runAlone(j)
				start = i + 1
			}
		}
		if start < len(group) {
			w.commit(group[start:])
		}
		for _, j := range group {
			close(j.done)
		}
	}
}

func (w *Writer) exec(query string) error {
	var err error
	if w.dialect.PrepareControl {
		_, err = w.stmts.ExecContext(context.Background(), query)
	} else {
		_, err = w.conn.ExecContext(context.Background(), query)
	}
	return err
}

// runAlone runs a DoAlone job. After a failure the connection's state is unknown, so the
// next job gets a new one.
func (w *Writer) runAlone(j *job) {
	if w.conn == nil {
		if err := w.reconnect([]*job{j}); err != nil {
			j.err = err
			return
		}
	}
	if j.err = j.fn(j.ctx, w.stmts); j.err != nil {
		w.disconnect()
	}
}

// reconnect opens a new connection for jobs, and gives up when the last of their callers'
// deadlines passes. Against a server that accepts connections and then answers nothing, the
// handshake would otherwise wait out a whole read timeout (on MySQL), after the statement that
// found the old connection dead had already waited out one: an attempt would outlast the
// deadline its caller was given (a consumer's handler timeout), and its retry would come late.
func (w *Writer) reconnect(jobs []*job) error {
	ctx := context.Background()
	if last, ok := lastDeadline(jobs); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, last)
		defer cancel()
	}
	if err := w.connect(ctx); err != nil {
		return fmt.Errorf("writer connection: %w", err)
	}
	return nil
}

// lastDeadline is the latest of the jobs' callers' deadlines; false if one of them has none.
func lastDeadline(jobs []*job) (time.Time, bool) {
	var last time.Time
	for _, j := range jobs {
		if !j.hasDeadline {
			return time.Time{}, false
		}
		if j.deadline.After(last) {
			last = j.deadline
		}
	}
	return last, len(jobs) > 0
}

// begin starts a transaction for jobs, on a new connection if there is none or the server
// closed the idle one.
func (w *Writer) begin(jobs []*job) error {
	if w.conn == nil {
		if err := w.reconnect(jobs); err != nil {
			return err
		}
	}
	if err := w.exec(w.dialect.Begin); err != nil {
		w.disconnect()
		if err = w.reconnect(jobs); err == nil {
			err = w.exec(w.dialect.Begin)
		}
		if err != nil {
			w.disconnect()
			return err
		}
	}
	return nil
}

// commit runs a group in one transaction. A job that runs first in its transaction needs no
// savepoint: if it fails, the transaction holds nothing else and is rolled back whole (the
// next job begins a new one), so a group of one costs BEGIN, its statements and COMMIT. The
// jobs after it run in a savepoint each: SAVEPOINT with the name of an existing one replaces it
// on MySQL, and SQLite releases it after a job that succeeded (Dialect.ReleaseSavepoints), so
// ROLLBACK TO rolls back the latest job either way, and COMMIT ends the transaction.
//
// When the transaction fails as a whole, every job that ran in it gets the transaction's error,
// its own error too: a job's answer may rest on what the jobs before it wrote (a second order
// with the same idempotency key finds the first), and those writes are gone.
func (w *Writer) commit(group []*job) {
	first := 0 // the transaction's first job
	fail := func(err error) {
		for _, j := range group[first:] {
			j.err = err
		}
	}
	open, clean := false, false // a transaction is open; it has nothing in it yet
	for i, j := range group {
		if !open {
			first = i
			if err := w.begin(group[i:]); err != nil {
				fail(err)
				return
			}
			open, clean = true, true
		}
		if clean {
			if j.err = j.fn(j.ctx, w.stmts); j.err == nil {
				clean = false
				continue
			}
			if w.exec("ROLLBACK") != nil {
				w.disconnect()
			}
			open = false
			continue
		}
		if err := w.step(j); err != nil {
			if w.exec("ROLLBACK") != nil {
				w.disconnect()
			}
			fail(fmt.Errorf("group transaction: %w: %w", ErrRolledBack, err))
			return
		}
	}
	if !open {
		return
	}
	if err := w.exec("COMMIT"); err != nil {
		if w.exec("ROLLBACK") != nil {
			w.disconnect()
		}
		fail(err)
	}
}

// step runs one job in a savepoint. It sets the job's own error, and returns an error only when
// the transaction itself can no longer be used.
func (w *Writer) step(j *job) error {
	if err := w.exec("SAVEPOINT job"); err != nil {
		return err
	}
	if j.err = j.fn(j.ctx, w.stmts); j.err == nil {
		if w.dialect.ReleaseSavepoints {
			return w.exec("RELEASE SAVEPOINT job")
		}
		return nil
	}
	if err := w.exec("ROLLBACK TO SAVEPOINT job"); err != nil {
		// j's error is quoted, not wrapped: every job of the group gets this error, and one
		// job's event.ErrInvalid must not send the others' events to the dead-letter topic.
		return fmt.Errorf("roll back to the savepoint after %v: %w", j.err, err)
	}
	return nil
}

// Pool is several Writers, each with its connection. Do sends the transactions of one key to
// the same writer, so transactions that lock the same rows are grouped instead of waiting for
// each other's commit, while those of other keys commit beside them. SQLite has one writer:
// give it a pool of one.
type Pool struct {
	writers []*Writer
}

// NewPool starts n writers over db; Close stops them.
func NewPool(ctx context.Context, db *sql.DB, d Dialect, n int) (*Pool, error) {
	p := &Pool{}
	for range max(n, 1) {
		w, err := NewWriter(ctx, db, d)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.writers = append(p.writers, w)
	}
	return p, nil
}

// Do runs fn as Writer.Do does, on the writer of key.
func (p *Pool) Do(ctx context.Context, key string, fn func(ctx context.Context, q Querier) error) error {
	h := fnv.New32a()
	h.Write([]byte(key))
	return p.writers[h.Sum32()%uint32(len(p.writers))].Do(ctx, fn)
}

// Close stops every writer.
func (p *Pool) Close() {
	for _, w := range p.writers {
		w.Close()
	}
}
