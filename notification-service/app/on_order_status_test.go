package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/notification-service/adapters"
	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
	"github.com/edmshop/edm-shop/platform/event"
)

// rig is the use case over a real SQLite store, the real SMTP mailer and the SMTP sink.
type rig struct {
	app     *app.App
	store   *adapters.SQLiteStore
	sink    *smtpsink.Sink
	mailer  *adapters.SMTPMailer
	mailbox app.Mailbox
	seen    []app.Outcome
}

func newRig(t testing.TB, withMailbox bool, configure ...func(*smtpsink.Sink)) *rig {
	t.Helper()
	store, err := adapters.NewSQLiteStore(filepath.Join(t.TempDir(), "notifications.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	for _, c := range configure {
		c(sink)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sink.ServeSMTP(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	r := &rig{store: store, sink: sink, mailer: adapters.NewSMTPMailer(l.Addr().String())}
	if withMailbox {
		api := httptest.NewServer(sink.Handler())
		t.Cleanup(api.Close)
		r.mailbox = adapters.NewMailpitMailbox(api.URL)
	}
	r.app = app.New(app.Config{From: "EDM Shop <orders@shop.test>", RecipientDomain: "shop.test"}, store, r.mailer, r.mailbox, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.app.Observe(func(o app.Outcome) { r.seen = append(r.seen, o) })
	return r
}

func statusEvent(t testing.TB, typ event.Type, tx, customer, status, reason string) event.Event {
	t.Helper()
	e, err := event.New(typ, "/order-service", tx, event.OrderOutcome{TransactionID: tx, CustomerID: customer, Status: status, Reason: reason,
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}, Amount: 1998, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (r *rig) mails(tx string) []smtpsink.Message {
	var out []smtpsink.Message
	for _, m := range r.sink.Messages() {
		if m.TransactionID == tx {
			out = append(out, m)
		}
	}
	return out
}

func (r *rig) state(t *testing.T, tx string) app.Notification {
	t.Helper()
	n, err := r.store.Get(context.Background(), tx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var ctx = context.Background()

func TestOnOrderStatusSendsOneEmailPerOrder(t *testing.T) {
	r := newRig(t, true)
	completed := statusEvent(t, event.TypeOrderCompleted, "tx-1", "alice", "COMPLETED", "")
	for range 3 { // the first delivery and two redeliveries
		if err := r.app.OnOrderStatus(ctx, completed); err != nil {
			t.Fatal(err)
		}
	}
	// A cancellation announced for the same order (it cannot happen, but a forged or replayed
	// one might arrive) sends nothing either: one e-mail per order.
	if err := r.app.OnOrderStatus(ctx, statusEvent(t, event.TypeOrderCancelled, "tx-1", "alice", "CANCELLED", "OUT_OF_STOCK")); err != nil {
		t.Fatal(err)
	}
	got := r.mails("tx-1")
	if len(got) != 1 {
		t.Fatalf("%d e-mails for tx-1, want 1", len(got))
	}
	m := got[0]
	if m.MessageID != domain.MessageID("tx-1") || len(m.To) != 1 || m.To[0] != "alice@shop.test" || m.From != "orders@shop.test" ||
		m.Subject != "Your order tx-1 is confirmed" || !strings.Contains(m.Text, "19.98 EUR") {
		t.Errorf("e-mail = %+v", m)
	}
	if n := r.state(t, "tx-1"); n.State != app.StateSent || n.Attempts != 1 || n.MessageID != m.MessageID {
		t.Errorf("recorded %+v", n)
	}
	if want := "[sent duplicate duplicate duplicate]"; fmtOutcomes(r.seen) != want {
		t.Errorf("outcomes %v, want %s", r.seen, want)
	}
}

func fmtOutcomes(o []app.Outcome) string {
	s := make([]string, len(o))
	for i, x := range o {
		s[i] = string(x)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestOnOrderStatusAfterAnUnfinishedAttempt replays what a restarted service finds after its
// predecessor died: the e-mail claimed (SENDING) and then sent or not before the crash.
func TestOnOrderStatusAfterAnUnfinishedAttempt(t *testing.T) {
	cases := []struct {
		name        string
		mailbox     bool
		sentBefore  bool // the dead attempt's SMTP DATA was accepted
		wantMails   int
		wantOutcome app.Outcome
	}{
		{"died before sending", true, false, 1, app.OutcomeResent},
		{"died after the server accepted, mailbox asked", true, true, 1, app.OutcomeRecovered},
		{"died before sending, no mailbox", false, false, 1, app.OutcomeResent},
		// The documented residual window: without a mailbox to ask, an e-mail accepted just
		// before the crash is sent again (same Message-ID).
		{"died after the server accepted, no mailbox", false, true, 2, app.OutcomeResent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.mailbox)
			e := statusEvent(t, event.TypeOrderCancelled, "tx-2", "bob", "CANCELLED", "PAYMENT_DECLINED")
			if _, err := r.store.Claim(ctx, "tx-2", domain.MessageID("tx-2"), time.Now()); err != nil {
				t.Fatal(err)
			}
			if c.sentBefore {
				mail, err := domain.Compose(event.OrderOutcome{TransactionID: "tx-2", CustomerID: "bob", Status: "CANCELLED", Reason: "PAYMENT_DECLINED",
					Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}}, "orders@shop.test", "shop.test")
				if err != nil {
					t.Fatal(err)
				}
				if err := r.mailer.Send(ctx, mail); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.app.OnOrderStatus(ctx, e); err != nil {
				t.Fatal(err)
			}
			if got := r.mails("tx-2"); len(got) != c.wantMails {
				t.Errorf("%d e-mails, want %d", len(got), c.wantMails)
			}
			if len(r.seen) != 1 || r.seen[0] != c.wantOutcome {
				t.Errorf("outcomes %v, want [%s]", r.seen, c.wantOutcome)
			}
			if n := r.state(t, "tx-2"); n.State != app.StateSent || n.Attempts != 2 {
				t.Errorf("recorded %+v, want SENT after 2 attempts", n)
			}
			// Settled now: a further redelivery sends nothing.
			if err := r.app.OnOrderStatus(ctx, e); err != nil || len(r.mails("tx-2")) != c.wantMails {
				t.Errorf("redelivery after recovery: %v, %d e-mails", err, len(r.mails("tx-2")))
			}
		})
	}
}

func TestOnOrderStatusRejects(t *testing.T) {
	r := newRig(t, false)
	mismatched := statusEvent(t, event.TypeOrderCompleted, "tx-3", "alice", "COMPLETED", "")
	mismatched.Key = "other"
	wrongType := statusEvent(t, event.TypeOrderCancelled, "tx-4", "alice", "COMPLETED", "")
	garbage := statusEvent(t, event.TypeOrderCompleted, "tx-5", "alice", "COMPLETED", "")
	garbage.Data = []byte(`{"transactionId":"tx-5"}`)
	for name, e := range map[string]event.Event{"key mismatch": mismatched, "type and status disagree": wrongType, "invalid payload": garbage} {
		if err := r.app.OnOrderStatus(ctx, e); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid (a dead letter)", name, err)
		}
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("%d e-mails sent for invalid events", n)
	}
}

func TestOnOrderStatusUndeliverable(t *testing.T) {
	r := newRig(t, false)
	e := statusEvent(t, event.TypeOrderCompleted, "tx-6", "not an address", "COMPLETED", "")
	for range 2 {
		if err := r.app.OnOrderStatus(ctx, e); err != nil {
			t.Fatalf("an undeliverable e-mail is an outcome, not an error: %v", err)
		}
	}
	if n := r.state(t, "tx-6"); n.State != app.StateUndeliverable || n.Reason == "" {
		t.Errorf("recorded %+v", n)
	}
	if len(r.sink.Messages()) != 0 || fmtOutcomes(r.seen) != "[undeliverable duplicate]" {
		t.Errorf("e-mails %d, outcomes %v", len(r.sink.Messages()), r.seen)
	}
}

func TestOnOrderStatusGivesUpOnAnEmailTheServerKeepsDeferring(t *testing.T) {
	const unresolvable = "bob@unresolvable.test"
	r := newRig(t, false, func(s *smtpsink.Sink) {
		s.DeferRecipient = func(addr string) bool { return addr == unresolvable }
	})
	e := statusEvent(t, event.TypeOrderCompleted, "tx-7", unresolvable, "COMPLETED", "")
	for i := 1; i < app.DefaultMaxDeferrals; i++ {
		if err := r.app.OnOrderStatus(ctx, e); !errors.Is(err, app.ErrDeferred) || errors.Is(err, event.ErrInvalid) {
			t.Fatalf("attempt %d: error = %v, want ErrDeferred (retried)", i, err)
		}
	}
	if err := r.app.OnOrderStatus(ctx, e); err != nil {
		t.Fatalf("deferral %d: error = %v, want the e-mail given up, so the partition moves on", app.DefaultMaxDeferrals, err)
	}
	if n := r.state(t, "tx-7"); n.State != app.StateUndeliverable || n.Attempts != app.DefaultMaxDeferrals || !strings.Contains(n.Reason, "450") {
		t.Errorf("recorded %+v, want UNDELIVERABLE after %d attempts with the server's reply", n, app.DefaultMaxDeferrals)
	}
	if err := r.app.OnOrderStatus(ctx, e); err != nil {
		t.Fatalf("redelivery after giving up: %v", err)
	}
	if err := r.app.OnOrderStatus(ctx, statusEvent(t, event.TypeOrderCompleted, "tx-8", "alice", "COMPLETED", "")); err != nil {
		t.Fatal(err)
	}
	if len(r.mails("tx-7")) != 0 || len(r.mails("tx-8")) != 1 {
		t.Errorf("e-mails of the deferred order %d, of the next %d; want 0 and 1", len(r.mails("tx-7")), len(r.mails("tx-8")))
	}
	if got := fmtOutcomes(r.seen); got != "[undeliverable duplicate sent]" {
		t.Errorf("outcomes %s", got)
	}
}

// TestOnOrderStatusWaitsWithoutLimitForAServerThatIsDown: attempts against a server that is
// down are not deferrals; once it is back, its deferrals are counted from the first.
func TestOnOrderStatusWaitsWithoutLimitForAServerThatIsDown(t *testing.T) {
	const unresolvable = "bob@unresolvable.test"
	r := newRig(t, false, func(s *smtpsink.Sink) {
		s.DeferRecipient = func(addr string) bool { return addr == unresolvable }
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	cfg := app.Config{From: "EDM Shop <orders@shop.test>", RecipientDomain: "shop.test", MaxDeferrals: 2}
	e := statusEvent(t, event.TypeOrderCompleted, "tx-9", unresolvable, "COMPLETED", "")
	whileDown := app.New(cfg, r.store, adapters.NewSMTPMailer(down), nil, slog.New(slog.DiscardHandler))
	for i := range 4 {
		if err := whileDown.OnOrderStatus(ctx, e); err == nil || errors.Is(err, app.ErrDeferred) || errors.Is(err, app.ErrRejected) {
			t.Fatalf("attempt %d against a server that is down: error = %v, want a transient error", i+1, err)
		}
	}
	if n := r.state(t, "tx-9"); n.State != app.StateSending || n.Attempts != 4 {
		t.Errorf("recorded %+v, want still SENDING after 4 attempts", n)
	}
	back := app.New(cfg, r.store, r.mailer, nil, slog.New(slog.DiscardHandler))
	if err := back.OnOrderStatus(ctx, e); !errors.Is(err, app.ErrDeferred) {
		t.Fatalf("first deferral after the outage: %v, want ErrDeferred (retried)", err)
	}
	if err := back.OnOrderStatus(ctx, e); err != nil {
		t.Fatalf("second deferral: %v, want the e-mail given up", err)
	}
	if n := r.state(t, "tx-9"); n.State != app.StateUndeliverable || n.Attempts != 6 {
		t.Errorf("recorded %+v, want UNDELIVERABLE after 6 attempts, 2 of them deferred", n)
	}
}

// BenchmarkOnOrderStatus measures one e-mail end to end: the claim in SQLite, the SMTP exchange
// with the sink over loopback, and the SENT record; and a redelivery, which only reads.
func BenchmarkOnOrderStatus(b *testing.B) {
	r := newRig(b, false)
	b.Run("first delivery", func(b *testing.B) {
		for i := range b.N {
			tx := "bench-" + strconv.Itoa(i)
			if err := r.app.OnOrderStatus(ctx, statusEvent(b, event.TypeOrderCompleted, tx, "alice", "COMPLETED", "")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redelivery", func(b *testing.B) {
		e := statusEvent(b, event.TypeOrderCompleted, "bench-0", "alice", "COMPLETED", "")
		for range b.N {
			if err := r.app.OnOrderStatus(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
