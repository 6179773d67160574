package adapters_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/notification-service/adapters"
	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
)

var ctx = context.Background()

func TestSQLiteStoreClaimAndSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.db")
	s, err := adapters.NewSQLiteStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "tx"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Settle(ctx, "tx", app.StateSent, "", time.Now()); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Settle(unclaimed) = %v, want ErrNotFound", err)
	}
	steps := []struct {
		settle app.State // settle with this after the claim, if set
		want   app.State // what the claim finds
	}{
		{"", app.StateNone},
		{"", app.StateSending},
		{app.StateSent, app.StateSending},
		{"", app.StateSent},
	}
	for i, step := range steps {
		got, err := s.Claim(ctx, "tx", "mid", time.Now())
		if err != nil || got != step.want {
			t.Fatalf("claim %d = %q, %v; want %q", i, got, err, step.want)
		}
		if step.settle != "" {
			if err := s.Settle(ctx, "tx", step.settle, "", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Close()
	// The record survives a restart: that is the dedup.
	s, err = adapters.NewSQLiteStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Claim(ctx, "tx", "mid", time.Now()); err != nil || got != app.StateSent {
		t.Errorf("claim after reopening = %q, %v; want SENT", got, err)
	}
	n, err := s.Get(ctx, "tx")
	if err != nil || n.State != app.StateSent || n.Attempts != 3 || n.MessageID != "mid" {
		t.Errorf("Get = %+v, %v; want SENT after 3 attempts", n, err)
	}
}

// serveSink serves SMTP on l with sink until the test ends.
func serveSink(t testing.TB, sink *smtpsink.Sink, l net.Listener) {
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sink.ServeSMTP(c, l) }()
	t.Cleanup(func() { cancel(); <-done })
}

func startSink(t *testing.T) (*smtpsink.Sink, string, string) {
	t.Helper()
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveSink(t, sink, l)
	api := httptest.NewServer(sink.Handler())
	t.Cleanup(api.Close)
	return sink, l.Addr().String(), api.URL
}

func TestSMTPMailerAndMailbox(t *testing.T) {
	sink, smtpAddr, api := startSink(t)
	m := adapters.NewSMTPMailer(smtpAddr)
	mailbox := adapters.NewMailpitMailbox(api)
	e := domain.Email{MessageID: domain.MessageID("tx-1"), TransactionID: "tx-1", From: "Shop <orders@shop.test>", To: "alice@shop.test",
		Subject: "Hi", Body: "line one\r\n.line with a leading dot\r\n"}
	if ok, err := mailbox.Delivered(ctx, e.MessageID); err != nil || ok {
		t.Fatalf("Delivered before sending = %v, %v", ok, err)
	}
	if err := m.Send(ctx, e); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || got[0].MessageID != e.MessageID || got[0].Subject != "Hi" || got[0].From != "orders@shop.test" ||
		got[0].Text != strings.ReplaceAll(e.Body, "\r\n", "\n") || got[0].TransactionID != "tx-1" {
		t.Fatalf("sink holds %+v", got)
	}
	if ok, err := mailbox.Delivered(ctx, e.MessageID); err != nil || !ok {
		t.Errorf("Delivered after sending = %v, %v", ok, err)
	}
	if ok, err := mailbox.Delivered(ctx, domain.MessageID("tx-2")); err != nil || ok {
		t.Errorf("Delivered(another id) = %v, %v", ok, err)
	}

	// A 5xx is for good: ErrRejected, not retried.
	big := e
	big.Body = strings.Repeat("x", smtpsink.MaxMessageBytes+10)
	if err := m.Send(ctx, big); !errors.Is(err, app.ErrRejected) {
		t.Errorf("Send(too large) = %v, want ErrRejected", err)
	}
	// No server is transient.
	down := adapters.NewSMTPMailer("127.0.0.1:1")
	if err := down.Send(ctx, e); err == nil || errors.Is(err, app.ErrRejected) {
		t.Errorf("Send to no server = %v, want a transient error", err)
	}
}

// TestMailboxTrustsOnlyAnExactMessageID: a server that ignores the search filter and lists
// other e-mails must not make an unsent e-mail count as delivered.
func TestMailboxTrustsOnlyAnExactMessageID(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"messages":[{"MessageID":"order-tx-9@notifications.edm-shop"}],"messages_count":1}`))
	}))
	defer api.Close()
	mailbox := adapters.NewMailpitMailbox(api.URL)
	if ok, err := mailbox.Delivered(ctx, domain.MessageID("tx-1")); err != nil || ok {
		t.Errorf("Delivered(tx-1) = %v, %v; want false", ok, err)
	}
	if ok, err := mailbox.Delivered(ctx, domain.MessageID("tx-9")); err != nil || !ok {
		t.Errorf("Delivered(tx-9) = %v, %v; want true", ok, err)
	}
}

// BenchmarkSQLiteStoreClaimSettle measures what the store costs per e-mail (a claim and a
// settlement) from callers working at once, as the consumer's lanes do.
func BenchmarkSQLiteStoreClaimSettle(b *testing.B) {
	s, err := adapters.NewSQLiteStore(filepath.Join(b.TempDir(), "n.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx := strconv.FormatInt(seq.Add(1), 10)
			if _, err := s.Claim(ctx, tx, domain.MessageID(tx), time.Now()); err != nil {
				b.Error(err)
				return
			}
			if err := s.Settle(ctx, tx, app.StateSent, "", time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestSQLiteStoreCountsDeferralsInAFileMadeBeforeThem: a notifications file made before
// deferrals were counted gets the column when it is opened, and Defer counts from 1.
func TestSQLiteStoreCountsDeferralsInAFileMadeBeforeThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE notifications (transaction_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, state TEXT NOT NULL,
		attempts INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '', claimed_at TEXT NOT NULL, updated_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := adapters.NewSQLiteStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Defer(ctx, "tx", time.Now()); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Defer(unclaimed) = %v, want ErrNotFound", err)
	}
	if _, err := s.Claim(ctx, "tx", "mid", time.Now()); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := s.Defer(ctx, "tx", time.Now()); err != nil || n != want {
			t.Fatalf("Defer = %d, %v; want %d", n, err, want)
		}
	}
}
