package adapters_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
)

// reuse creates a fresh order under key and reports whether the key was still recorded.
func reuse(t *testing.T, r app.Repository, key string) bool {
	t.Helper()
	o, msg := newOrder(t)
	_, err := r.CreateOrder(ctx, o, msg, app.IdempotencyKey{Key: key, RequestHash: "h-" + o.TransactionID, TransactionID: o.TransactionID})
	switch {
	case errors.Is(err, app.ErrIdempotencyKeyExists):
		return true
	case err != nil:
		t.Fatal(err)
	}
	return false
}

func TestSQLiteIdempotencyKeysExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	r, err := adapters.NewSQLiteRepository(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if reuse(t, r, "old") || reuse(t, r, "new") {
		t.Fatal("fresh keys were already recorded")
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE idempotency_keys SET created_at = ? WHERE idempotency_key = 'old'`,
		time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	n, err := r.PurgeIdempotencyKeys(ctx, 48*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("PurgeIdempotencyKeys = %d, %v; want 1 key", n, err)
	}
	if reuse(t, r, "old") {
		t.Error("a key older than the retention still counts")
	}
	if !reuse(t, r, "new") {
		t.Error("a key younger than the retention was forgotten")
	}
}

func TestDynamoDBIdempotencyKeysExpire(t *testing.T) {
	cfg := dynamoDBTestConfig(t, "ttl")
	cfg.KeyRetention = time.Second
	r := newDynamoDBRepository(t, cfg)
	if reuse(t, r, "k") {
		t.Fatal("a fresh key was already recorded")
	}
	if !reuse(t, r, "k") {
		t.Fatal("a key was forgotten at once")
	}
	deadline := time.Now().Add(10 * time.Second)
	for reuse(t, r, "k") {
		if time.Now().After(deadline) {
			t.Fatal("a key past its retention still counts")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
