// Package sqldb holds what the SQL stores share beyond database/sql: the Querier that both
// transactions and the prepared-statement cache satisfy.
package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// Querier runs statements: *sql.DB, *sql.Conn, *sql.Tx and *Stmts are Queriers, so a store's
// statements run the same in any of them.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Preparer prepares statements: *sql.DB (for any of its connections) or *sql.Conn (for that
// one connection).
type Preparer interface {
	Querier
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Stmts is a Querier that prepares each query once and reuses it. Without it every statement
// is parsed again each time it runs; with SQLite's single writer connection that parsing was a
// sixth of the sandbox's CPU.
type Stmts struct {
	p Preparer

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

var _ Querier = (*Stmts)(nil)

// NewStmts returns a cache over p.
func NewStmts(p Preparer) *Stmts { return &Stmts{p: p, stmts: map[string]*sql.Stmt{}} }

// stmt returns query prepared, or nil when it cannot be prepared (the caller then runs it
// unprepared, which reports the database's error).
func (s *Stmts) stmt(ctx context.Context, query string) *sql.Stmt {
	s.mu.Lock()
	st, ok := s.stmts[query]
	s.mu.Unlock()
	if ok {
		return st
	}
	st, err := s.p.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.stmts[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return prev
	}
	s.stmts[query] = st
	return st
}

// ExecContext runs a statement.
func (s *Stmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.p.ExecContext(ctx, query, args...)
}

// QueryContext runs a query.
func (s *Stmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.p.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (s *Stmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.p.QueryRowContext(ctx, query, args...)
}

// Close closes every prepared statement; call it before closing what they were prepared on.
func (s *Stmts) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, st := range s.stmts {
		st.Close()
		delete(s.stmts, q)
	}
}

// InList returns "(?, ?, ...)" and its arguments for an IN clause over values. It pads the list
// to a power of two by repeating the last value, so lists of any length use a handful of
// distinct statements and a prepared-statement cache stays small.
func InList[T any](values []T) (string, []any) {
	n := 1
	for n < len(values) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = values[min(i, len(values)-1)]
	}
	return "(?" + strings.Repeat(", ?", n-1) + ")", args
}
