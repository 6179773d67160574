package adapters_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/notification-service/adapters"
	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
)

// trackingListener counts the sessions a server accepted and can cut them all, as a server
// that drops idle clients or restarts does.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *trackingListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

func startTrackedSink(t *testing.T, pipelining bool) (*smtpsink.Sink, *trackingListener) {
	t.Helper()
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	sink.NoPipelining = !pipelining
	sink.DeferRecipient = func(addr string) bool { return addr == deferredAddr }
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &trackingListener{Listener: inner}
	serveSink(t, sink, l)
	return sink, l
}

// deferredAddr is the recipient a tracked sink defers (450) on every attempt.
const deferredAddr = "bob@unresolvable.test"

func email(i int) domain.Email {
	tx := fmt.Sprintf("tx-%d", i)
	return domain.Email{MessageID: domain.MessageID(tx), TransactionID: tx, From: "Shop <orders@shop.test>",
		To: "alice@shop.test", Subject: "Hi " + tx, Body: "body of " + tx + "\r\n"}
}

// wantMessages checks that the sink holds exactly the e-mails of ids, once each.
func wantMessages(t *testing.T, sink *smtpsink.Sink, ids ...int) {
	t.Helper()
	got := map[string]int{}
	for _, m := range sink.Messages() {
		got[m.MessageID]++
	}
	for _, i := range ids {
		if id := email(i).MessageID; got[id] != 1 {
			t.Errorf("sink holds %s %d times, want once", id, got[id])
		}
	}
	if n := len(sink.Messages()); n != len(ids) {
		t.Errorf("sink holds %d e-mails, want %d", n, len(ids))
	}
}

func TestSMTPMailerReusesSessions(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining=%v", pipelining), func(t *testing.T) {
			sink, l := startTrackedSink(t, pipelining)
			m := adapters.NewSMTPMailer(l.Addr().String())
			defer m.Close()
			const n = 20
			var ids []int
			for i := range n {
				if err := m.Send(ctx, email(i)); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				ids = append(ids, i)
			}
			// A refused e-mail (no valid recipient) leaves the session usable.
			bad := email(n)
			bad.To = ""
			if err := m.Send(ctx, bad); !errors.Is(err, app.ErrRejected) {
				t.Fatalf("Send(no recipient) = %v, want ErrRejected", err)
			}
			// So does one refused for now, which is told apart from a refusal for good.
			deferred := email(n + 2)
			deferred.To = deferredAddr
			if err := m.Send(ctx, deferred); !errors.Is(err, app.ErrDeferred) || errors.Is(err, app.ErrRejected) {
				t.Fatalf("Send(deferred recipient) = %v, want ErrDeferred alone", err)
			}
			if err := m.Send(ctx, email(n+1)); err != nil {
				t.Fatalf("send after a refusal: %v", err)
			}
			ids = append(ids, n+1)
			wantMessages(t, sink, ids...)
			if got := l.accepted(); got != 1 {
				t.Errorf("%d e-mails one after another took %d sessions, want 1", n+1, got)
			}
		})
	}
}

func TestSMTPMailerRedialsADroppedSession(t *testing.T) {
	sink, l := startTrackedSink(t, true)
	m := adapters.NewSMTPMailer(l.Addr().String())
	defer m.Close()
	if err := m.Send(ctx, email(1)); err != nil {
		t.Fatal(err)
	}
	l.dropAll() // the idle session dies on the server's side
	if err := m.Send(ctx, email(2)); err != nil {
		t.Fatalf("send after the server dropped the session: %v", err)
	}
	if err := m.Send(ctx, email(3)); err != nil {
		t.Fatal(err)
	}
	wantMessages(t, sink, 1, 2, 3)
	if got := l.accepted(); got != 2 {
		t.Errorf("sessions = %d, want 2 (one redial)", got)
	}
}

func TestSMTPMailerDropsIdleSessions(t *testing.T) {
	sink, l := startTrackedSink(t, true)
	m := adapters.NewSMTPMailer(l.Addr().String())
	m.IdleTimeout = time.Nanosecond
	defer m.Close()
	for i := range 3 {
		if err := m.Send(ctx, email(i)); err != nil {
			t.Fatal(err)
		}
	}
	wantMessages(t, sink, 0, 1, 2)
	if got := l.accepted(); got != 3 {
		t.Errorf("sessions = %d, want 3: a session idle too long is not reused", got)
	}
}

func TestSMTPMailerBoundsConcurrentSessions(t *testing.T) {
	sink, l := startTrackedSink(t, true)
	m := adapters.NewSMTPMailer(l.Addr().String())
	m.Sessions = 3
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- m.Send(ctx, email(i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	wantMessages(t, sink, ids...)
	if got := l.accepted(); got < 1 || got > 3 {
		t.Errorf("%d concurrent e-mails took %d sessions, want 1 to 3", n, got)
	}
	// After Close no session stays open and no e-mail is sent.
	m.Close()
	if err := m.Send(ctx, email(n)); err == nil || errors.Is(err, app.ErrRejected) {
		t.Errorf("Send after Close = %v, want a transient error", err)
	}
}

// BenchmarkSMTPMailerSend measures one e-mail handed to the sink, client and server side
// together, from callers sending at once as the consumer's lanes do.
func BenchmarkSMTPMailerSend(b *testing.B) {
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	serveSink(b, sink, l)
	m := adapters.NewSMTPMailer(l.Addr().String())
	defer m.Close()
	e := email(1)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := m.Send(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	sink.Clear()
}
