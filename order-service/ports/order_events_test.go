package ports_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// sseEvent is one Server-Sent Event as a client reads it.
type sseEvent struct {
	name, id string
	data     map[string]any
}

// openEvents opens GET /orders/{id}/events on srv and returns its events as they arrive; the
// channel closes when the stream ends.
func openEvents(t *testing.T, srv *httptest.Server, id string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/orders/"+id+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /orders/%s/events = %d %s", id, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				out <- e
				e = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.data)
			}
		}
	}()
	return out
}

// expect reads the next events and checks their names and the type (entry) or status (order,
// end) they carry.
func expect(t *testing.T, events <-chan sseEvent, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("stream ended, want %s", w)
			}
			got := e.name + " " + stringOf(e.data["type"]) + stringOf(e.data["status"])
			if got != w {
				t.Fatalf("event %q (%v), want %q", got, e.data, w)
			}
			if e.name == "entry" && e.id != e.data["eventId"] {
				t.Errorf("entry id %q, eventId %v", e.id, e.data["eventId"])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event within 10 s, want %s", w)
		}
	}
}

func stringOf(v any) string { s, _ := v.(string); return s }

func serve(t *testing.T, a *app.App) *httptest.Server {
	engine := httpx.NewEngine(nil)
	ports.RegisterHTTP(engine, a, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	return srv
}

func reserved(id string) map[string]any {
	return map[string]any{"transactionId": id, "customerId": "alice", "items": []map[string]any{{"sku": "SKU-1001", "quantity": 2, "unitPrice": 999}},
		"amount": 1998, "currency": "EUR", "paymentMethod": "pm_card_visa"}
}

func TestOrderEventsStreamsHistoryThenEachEntryAndEnds(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f.app)
	id := placeOrder(t, f, validBody, nil)
	events := openEvents(t, srv, id)
	expect(t, events, "entry ORDER_CREATE", "order PENDING")
	mustApply(t, f.app.OnItemReserved, event.TypeItemReserved, id, reserved(id))
	expect(t, events, "entry ITEM_RESERVED", "order RESERVED")
	mustApply(t, f.app.OnPaymentComplete, event.TypePaymentComplete, id, map[string]any{"transactionId": id, "amount": 1998, "currency": "EUR", "chargeId": "ch_1"})
	expect(t, events, "entry PAYMENT_COMPLETE", "order COMPLETED", "end COMPLETED")
	if e, ok := <-events; ok {
		t.Errorf("stream goes on after end: %+v", e)
	}

	// A finished order: the whole history at once, then the end.
	expect(t, openEvents(t, srv, id), "entry ORDER_CREATE", "entry ITEM_RESERVED", "entry PAYMENT_COMPLETE", "order COMPLETED", "end COMPLETED")
}

// TestOrderEventsSeesOtherReplicas: entries another instance records (no in-process
// notification) arrive through the poll of the store.
func TestOrderEventsSeesOtherReplicas(t *testing.T) {
	defer func(p time.Duration) { ports.FollowPoll = p }(ports.FollowPoll)
	ports.FollowPoll = 20 * time.Millisecond
	f := newFixture(t)
	srv := serve(t, f.app)
	other := app.New(f.repo, "inventory", nil)
	id := placeOrder(t, f, validBody, nil)
	events := openEvents(t, srv, id)
	expect(t, events, "entry ORDER_CREATE", "order PENDING")
	mustApply(t, other.OnItemReserved, event.TypeItemReserved, id, reserved(id))
	mustApply(t, other.OnItemReleased, event.TypeItemReleased, id, map[string]any{"transactionId": id, "reason": event.ReasonPaymentDeclined,
		"items": []map[string]any{{"sku": "SKU-1001", "quantity": 2}}})
	// The poll may find both entries in one read or one at a time.
	expect(t, events, "entry ITEM_RESERVED")
	for {
		e := <-events
		if e.name == "entry" {
			if e.data["type"] != "ITEM_RELEASED" {
				t.Fatalf("entry %v, want ITEM_RELEASED", e.data)
			}
			break
		}
	}
	expect(t, events, "order CANCELLED", "end CANCELLED")
}

func TestOrderEventsNotFound(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		assertError(t, f.do(t, http.MethodGet, "/orders/"+id+"/events", "", nil), http.StatusNotFound, ports.CodeOrderNotFound)
	}
}

// TestOrderEventsBoundsItsStreams: past MaxOrderStreams open streams the next is refused with
// 503 TOO_MANY_STREAMS and Retry-After, until one closes.
func TestOrderEventsBoundsItsStreams(t *testing.T) {
	defer func(n int) { ports.MaxOrderStreams = n }(ports.MaxOrderStreams)
	ports.MaxOrderStreams = 2
	f := newFixture(t)
	srv := serve(t, f.app)
	id := placeOrder(t, f, validBody, nil)
	first := openEvents(t, srv, id)
	expect(t, first, "entry ORDER_CREATE", "order PENDING")
	expect(t, openEvents(t, srv, id), "entry ORDER_CREATE", "order PENDING")
	res, err := http.Get(srv.URL + "/orders/" + id + "/events")
	if err != nil {
		t.Fatal(err)
	}
	var body httpx.ErrorBody
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || body.Error.Code != ports.CodeTooManyStreams || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a third stream = %d %+v (Retry-After %q), want 503 %s", res.StatusCode, body, res.Header.Get("Retry-After"), ports.CodeTooManyStreams)
	}
	// The order ends: its streams end with it and free their slots.
	mustApply(t, f.app.OnItemReserved, event.TypeItemReserved, id, reserved(id))
	mustApply(t, f.app.OnPaymentComplete, event.TypePaymentComplete, id, map[string]any{"transactionId": id, "amount": 1998, "currency": "EUR", "chargeId": "ch_1"})
	// To its end: the two entries may come in one batch or in two.
	for ended, timeout := false, time.After(10*time.Second); !ended; {
		select {
		case e, ok := <-first:
			ended = !ok || e.name == "end"
		case <-timeout:
			t.Fatal("the stream did not end with its order")
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := http.Get(srv.URL + "/orders/" + id + "/events")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stream after the others ended = %d, want 200", res.StatusCode)
		}
	}
}
