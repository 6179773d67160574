package service_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/notification-service/service"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestService runs notification-service against an in-process broker and the SMTP sink: a
// status event sent three times gives one e-mail, a poison one is dead-lettered, and the
// e-mail's record and the outcome counter are served.
func TestService(t *testing.T) {
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.OrderStatus)
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sinkDone := make(chan error, 1)
	go func() { sinkDone <- sink.ServeSMTP(ctx, l) }()
	api := httptest.NewServer(sink.Handler())
	defer api.Close()

	addr := nettest.FreeAddr(t)
	cfg := service.Config{
		Service:    config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: service.Name},
		SMTPAddr:   l.Addr().String(),
		MailboxURL: api.URL,
		DBPath:     filepath.Join(t.TempDir(), "notifications.db"),
	}
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg, service.Parts{}, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-sinkDone
	}()
	base := "http://" + addr
	eventually(t, "ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	e, err := event.New(event.TypeOrderCompleted, "/order-service", "tx-1", event.OrderOutcome{TransactionID: "tx-1", CustomerID: "alice",
		Status: "COMPLETED", Items: []event.Item{{SKU: "SKU-1001", Quantity: 1}}, Amount: 999, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		kafkatest.ProduceEvent(t, brokers, topics.OrderStatus, e)
	}
	poison := e
	poison.Data = []byte(`{"transactionId":"tx-1"}`)
	kafkatest.ProduceEvent(t, brokers, topics.OrderStatus, poison)
	eventually(t, "poison dead-lettered", func() bool {
		return len(kafkatest.ReadAll(t, brokers, kafka.DeadLetterTopic(topics.OrderStatus))) == 1
	})
	// All four were consumed in order (one key, one partition): the e-mail went out once.
	if got := sink.Messages(); len(got) != 1 || got[0].To[0] != "alice@customers.edm-shop.test" {
		t.Fatalf("sink holds %+v, want one e-mail to alice", got)
	}

	resp, err := http.Get(base + "/notifications/tx-1")
	if err != nil {
		t.Fatal(err)
	}
	var n struct{ State, MessageID string }
	json.NewDecoder(resp.Body).Decode(&n)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n.State != "SENT" || n.MessageID != "order-tx-1@notifications.edm-shop" {
		t.Errorf("GET /notifications/tx-1 = %d %+v", resp.StatusCode, n)
	}
	if resp, err := http.Get(base + "/notifications/unknown"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /notifications/unknown = %v, %v; want 404", resp, err)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`notification_emails_total{outcome="sent"} 1`, `notification_emails_total{outcome="duplicate"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
