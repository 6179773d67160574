package ports_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// TestTopicViewerFiltersByTransaction feeds the viewer records as kafka.Tail hands them over
// (kafka.Tail itself is tested against a broker in platform/kafka).
func TestTopicViewerFiltersByTransaction(t *testing.T) {
	at := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	var gotBack int64
	tail := func(ctx context.Context, back int64, fn func(kafka.TailRecord) error) error {
		gotBack = back
		for _, r := range []kafka.TailRecord{
			{Topic: "inventory", Partition: 3, Offset: 7, Key: "tx-1", Headers: map[string]string{"ce_type": "ORDER_CREATE"}, Value: []byte(`{"transactionId":"tx-1"}`), Time: at},
			{Topic: "order", Partition: 1, Offset: 2, Key: "tx-2", Value: []byte(`{"transactionId":"tx-2"}`), Time: at},
			{Topic: "inventory.dlt", Partition: 0, Offset: 0, Key: "", Headers: map[string]string{"dlt_reason": "bad"}, Value: []byte(`not json tx-1`), Time: at},
		} {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil // the real tail runs until the client leaves; ending here ends the response
	}
	engine := httpx.NewEngine(nil)
	ports.RegisterTopicViewer(engine, []string{"inventory", "inventory.dlt", "order"}, tail, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(engine)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/topics/stream?transactionId=tx-1&back=5")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `event: ready
data: {"back":5,"topics":["inventory","inventory.dlt","order"],"transactionId":"tx-1"}

id: inventory/3/7
event: record
data: {"topic":"inventory","partition":3,"offset":7,"key":"tx-1","headers":{"ce_type":"ORDER_CREATE"},"value":{"transactionId":"tx-1"},"timestamp":"2026-11-25T13:00:00Z"}

id: inventory.dlt/0/0
event: record
data: {"topic":"inventory.dlt","partition":0,"offset":0,"key":"","headers":{"dlt_reason":"bad"},"value":"not json tx-1","timestamp":"2026-11-25T13:00:00Z"}

`
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" || string(body) != want || gotBack != 5 {
		t.Errorf("GET /topics/stream = %d %s back %d\n%s\nwant\n%s", res.StatusCode, res.Header.Get("Content-Type"), gotBack, body, want)
	}

	for _, q := range []string{"back=-1", "back=1001", "back=x"} {
		res, err := http.Get(srv.URL + "/topics/stream?" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), ports.CodeInvalidBack) {
			t.Errorf("GET /topics/stream?%s = %d %s, want 400 %s", q, res.StatusCode, b, ports.CodeInvalidBack)
		}
	}
}

// TestTopicViewerBoundsItsStreams: each stream reads with a Kafka consumer of its own, so past
// MaxTopicViewers open streams the next is refused with 503 TOO_MANY_VIEWERS and Retry-After,
// until one closes.
func TestTopicViewerBoundsItsStreams(t *testing.T) {
	started := make(chan struct{}, ports.MaxTopicViewers+1)
	tail := func(ctx context.Context, back int64, fn func(kafka.TailRecord) error) error {
		started <- struct{}{}
		<-ctx.Done() // as the real tail: until the client leaves
		return nil
	}
	engine := httpx.NewEngine(nil)
	ports.RegisterTopicViewer(engine, []string{"order"}, tail, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(engine)
	defer srv.Close()
	open := func() (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/topics/stream?back=0", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res, cancel
	}
	var cancels []context.CancelFunc
	defer func() {
		for _, cancel := range cancels {
			cancel()
		}
	}()
	for range ports.MaxTopicViewers {
		res, cancel := open()
		cancels = append(cancels, cancel)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream %d = %d, want 200", len(cancels), res.StatusCode)
		}
		<-started
	}
	res, cancel := open()
	b, _ := io.ReadAll(res.Body)
	cancel()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), ports.CodeTooManyViewers) || res.Header.Get("Retry-After") == "" {
		t.Fatalf("stream past the bound = %d %s (Retry-After %q), want 503 %s", res.StatusCode, b, res.Header.Get("Retry-After"), ports.CodeTooManyViewers)
	}
	cancels[0]() // a viewer leaves; its slot frees once its handler has returned
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, cancel := open()
		cancels = append(cancels, cancel)
		if res.StatusCode == http.StatusOK {
			break
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("stream after a viewer left = %d, want 200", res.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
