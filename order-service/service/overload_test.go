package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// TestOverloadIsRefused runs order-service with an in-flight limit of 3 and no inventory-service,
// so accepted orders stay PENDING until the test sends their outcome. Past the limit POST
// /orders answers 503 OVERLOADED with Retry-After and neither stores nor publishes anything; a
// terminal order frees its slot; a restart counts the orders still in flight in the store.
func TestOverloadIsRefused(t *testing.T) {
	const limit = 3
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.Order, topics.Inventory)
	repo := newRepo(t)
	addr := nettest.FreeAddr(t)
	base := "http://" + addr
	cfg := service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "order-service"}, MaxInFlight: limit}
	start := func() (stop func()) { return startService(t, cfg, repo) }
	const body = `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":1}],"paymentMethod":"pm_card_visa"}`
	// place sends one order and returns its id, or "" when it was refused for overload.
	place := func() string {
		resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted:
			var a struct{ TransactionID string }
			json.NewDecoder(resp.Body).Decode(&a)
			return a.TransactionID
		case http.StatusServiceUnavailable:
			var e httpx.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != "OVERLOADED" || e.Error.Message == "" {
				t.Errorf("503 body: %+v %v, want code OVERLOADED with a message", e, err)
			}
			if resp.Header.Get("Retry-After") != "1" {
				t.Errorf("503 with Retry-After %q, want 1", resp.Header.Get("Retry-After"))
			}
		default:
			t.Errorf("POST /orders = %d, want 202 or 503", resp.StatusCode)
		}
		return ""
	}
	inFlight := func(want int) {
		t.Helper()
		if n, err := repo.CountInFlight(context.Background()); err != nil || n != want {
			t.Fatalf("store holds %d orders in flight (%v), want %d", n, err, want)
		}
	}
	published := func(want int) {
		t.Helper()
		eventually(t, 20*time.Second, "outbox drained", func() bool {
			recs, err := repo.PendingOutbox(context.Background(), 100)
			return err == nil && len(recs) == 0
		})
		if n := len(kafkatest.ReadAll(t, brokers, topics.Inventory)); n != want {
			t.Fatalf("%d ORDER_CREATE on the inventory topic, want %d", n, want)
		}
	}
	cancelOrder := func(id string) {
		produce(t, brokers, topics.Order, event.TypeOutOfStock, id, event.OutOfStock{TransactionID: id, Reason: event.ReasonOutOfStock})
		eventually(t, 20*time.Second, "order "+id+" CANCELLED", func() bool {
			var o struct{ Status string }
			get(t, base+"/orders/"+id, &o)
			return o.Status == "CANCELLED"
		})
	}

	stop := start()
	// Ten at once for three slots: exactly three are accepted, whatever the interleaving.
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if id := place(); id != "" {
				mu.Lock()
				accepted = append(accepted, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(accepted) != limit {
		t.Fatalf("%d of 10 orders accepted, want %d", len(accepted), limit)
	}
	inFlight(limit)
	published(limit)

	// A terminal order frees its slot, for one more order only.
	cancelOrder(accepted[0])
	if id := place(); id == "" {
		t.Fatal("refused after an order became terminal")
	} else {
		accepted = append(accepted, id)
	}
	if id := place(); id != "" {
		t.Fatal("accepted past the limit")
	}
	inFlight(limit)
	published(limit + 1)

	// After a restart the orders still in flight count from the start.
	stop()
	stop = start()
	defer func() { stop() }()
	if id := place(); id != "" {
		t.Fatal("accepted past the limit after a restart")
	}
	for _, id := range accepted[1:] {
		cancelOrder(id)
	}
	inFlight(0)
	for range limit {
		if place() == "" {
			t.Fatal("refused with nothing in flight")
		}
	}
	inFlight(limit)
	published(limit + 1 + limit)
}

// TestOverloadAnswersARetryAsTheFirstRequestWas: a client that lost its 202 and retries with
// the same Idempotency-Key while the gate is full gets the order it created, not a 503 saying
// nothing was stored (it might order again and pay twice); a new key is still refused, and a
// changed body with the old key is still 422.
func TestOverloadAnswersARetryAsTheFirstRequestWas(t *testing.T) {
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.Order, topics.Inventory)
	repo := newRepo(t)
	addr := nettest.FreeAddr(t)
	base := "http://" + addr
	cfg := service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "order-service"}, MaxInFlight: 1}
	defer startService(t, cfg, repo)()
	const body = `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":1}],"paymentMethod":"pm_card_visa"}`
	place := func(key, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, base+"/orders", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct{ TransactionID string }
		json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a.TransactionID
	}
	code, first := place("checkout-1", body)
	if code != http.StatusAccepted || first == "" {
		t.Fatalf("first order: %d %q, want 202 with an id", code, first)
	}
	if code, id := place("checkout-1", body); code != http.StatusAccepted || id != first {
		t.Errorf("retry while full: %d %q, want 202 with %s", code, id, first)
	}
	if code, _ := place("checkout-2", body); code != http.StatusServiceUnavailable {
		t.Errorf("new order while full: %d, want 503", code)
	}
	if code, _ := place("checkout-1", strings.Replace(body, `"quantity":1`, `"quantity":2`, 1)); code != http.StatusUnprocessableEntity {
		t.Errorf("old key with another body while full: %d, want 422", code)
	}
	if n, err := repo.CountInFlight(context.Background()); err != nil || n != 1 {
		t.Errorf("store holds %d orders in flight (%v), want 1", n, err)
	}
}

// TestAdmissionFollowsTheSettleRate runs order-service with no fixed bound, an admission
// target and no inventory-service, so accepted orders wait until the test settles them. From a
// standstill the floor admits service.AdmissionFloor orders; once those settle, the limit in
// force (served as edm_orders_in_flight_limit) is their rate times the target, and more orders
// than the floor are admitted at once.
func TestAdmissionFollowsTheSettleRate(t *testing.T) {
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.Order, topics.Inventory)
	addr := nettest.FreeAddr(t)
	base := "http://" + addr
	// A long target, so the limit stays far above the floor for the rest of the test although
	// the rate it follows halves with each window in which nothing settles.
	cfg := service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "order-service"},
		MaxInFlight: -1, AdmissionTarget: 10 * time.Minute}
	defer startService(t, cfg, newRepo(t))()
	limitInForce := func() float64 {
		t.Helper()
		return sample(t, base, "edm_orders_in_flight_limit")
	}
	// placeAll sends n orders at once and returns the ids of those accepted.
	placeAll := func(n int) []string {
		var mu sync.Mutex
		var accepted []string
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				status, body := post(t, base, `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":1}],"paymentMethod":"pm_card_visa"}`)
				if status != http.StatusAccepted {
					return
				}
				var a struct{ TransactionID string }
				json.Unmarshal(body, &a)
				mu.Lock()
				accepted = append(accepted, a.TransactionID)
				mu.Unlock()
			})
		}
		wg.Wait()
		return accepted
	}

	if got := limitInForce(); got != service.AdmissionFloor {
		t.Fatalf("limit in force %v before any order, want the floor %d", got, service.AdmissionFloor)
	}
	accepted := placeAll(service.AdmissionFloor + 20)
	if len(accepted) != service.AdmissionFloor {
		t.Fatalf("%d of %d orders accepted from a standstill, want the floor %d", len(accepted), service.AdmissionFloor+20, service.AdmissionFloor)
	}
	for _, id := range accepted {
		produce(t, brokers, topics.Order, event.TypeOutOfStock, id, event.OutOfStock{TransactionID: id, Reason: event.ReasonOutOfStock})
	}
	eventually(t, 30*time.Second, "the settled orders to raise the limit in force", func() bool {
		return sample(t, base, "edm_orders_in_flight") == 0 && limitInForce() > 2*service.AdmissionFloor
	})
	if again := placeAll(service.AdmissionFloor + 20); len(again) != service.AdmissionFloor+20 {
		t.Fatalf("%d of %d orders accepted once %d had settled (limit in force %v), want all", len(again), service.AdmissionFloor+20, len(accepted), limitInForce())
	}
}

// TestReplicasCountEachOthersOrders runs two order-service replicas on one store with an
// in-flight limit of 3. Shoppers reach only the front one, which consumes a topic nothing is
// sent to; the orders' outcomes reach the back one, as they reach whichever replica consumes
// their partition. Counting only what it accepts and settles itself, the front would count
// every order it ever accepted and refuse all orders for good after three, and the back's count
// would fall below zero; each recounts from the store instead.
func TestReplicasCountEachOthersOrders(t *testing.T) {
	const limit = 3
	topics := config.DefaultTopics
	unused := "order-unused"
	brokers := kafkatest.Start(t, topics.Order, topics.Inventory, unused)
	repo := newRepo(t)
	replica := func(consumed, group string) string {
		addr := nettest.FreeAddr(t)
		tp := topics
		tp.Order = consumed
		cfg := service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: tp, GroupID: group}, MaxInFlight: limit}
		t.Cleanup(startService(t, cfg, repo))
		return "http://" + addr
	}
	front, back := replica(unused, "order-service-front"), replica(topics.Order, "order-service")
	const body = `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":1}],"paymentMethod":"pm_card_visa"}`

	for round := range 3 {
		var accepted []string
		eventually(t, 10*time.Second, fmt.Sprintf("round %d: the front replica admitting %d orders", round, limit), func() bool {
			status, b := post(t, front, body)
			if status == http.StatusAccepted {
				var a struct{ TransactionID string }
				json.Unmarshal(b, &a)
				accepted = append(accepted, a.TransactionID)
			}
			return len(accepted) == limit
		})
		if status, _ := post(t, front, body); status != http.StatusServiceUnavailable {
			t.Fatalf("round %d: POST /orders past the limit = %d, want 503", round, status)
		}
		for _, id := range accepted {
			produce(t, brokers, topics.Order, event.TypeOutOfStock, id, event.OutOfStock{TransactionID: id, Reason: event.ReasonOutOfStock})
		}
		eventually(t, 10*time.Second, fmt.Sprintf("round %d: both replicas counting no order in flight", round), func() bool {
			return sample(t, front, "edm_orders_in_flight") == 0 && sample(t, back, "edm_orders_in_flight") == 0
		})
	}
	// The front accepted 9 orders and settled none, the back the other way round: the recounts
	// took all 9 off the front's count and added them to the back's, and nothing else.
	for _, c := range []struct {
		name           string
		base           string
		added, removed float64
	}{{"front", front, 0, 3 * limit}, {"back", back, 3 * limit, 0}} {
		added := sample(t, c.base, `edm_orders_in_flight_corrections_total{direction="added"}`)
		removed := sample(t, c.base, `edm_orders_in_flight_corrections_total{direction="removed"}`)
		if added != c.added || removed != c.removed {
			t.Errorf("%s replica: recounts added %v orders and removed %v, want %v and %v", c.name, added, removed, c.added, c.removed)
		}
	}
}

// sample reads a sample from the service's /metrics by its name, with its labels as served.
func sample(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// TestConfigFromEnvReadsTheAdmissionTarget: a duration sets the target, 0 switches the limit
// that follows the settle rate off, as the README's environment says, and anything else is
// an error Run reports.
func TestConfigFromEnvReadsTheAdmissionTarget(t *testing.T) {
	cases := []struct {
		env     string
		want    time.Duration
		invalid bool
	}{
		{"", service.DefaultAdmissionTarget, false},
		{"250ms", 250 * time.Millisecond, false},
		{"0", -1, false},
		{"0s", -1, false},
		{"-1s", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("ORDER_ADMISSION_TARGET", tc.env)
			cfg := service.ConfigFromEnv()
			if err := cfg.ConfigErr(); (err != nil) != tc.invalid {
				t.Fatalf("ORDER_ADMISSION_TARGET=%q: error %v, want one: %v", tc.env, err, tc.invalid)
			}
			if !tc.invalid && cfg.AdmissionTarget != tc.want {
				t.Errorf("ORDER_ADMISSION_TARGET=%q: AdmissionTarget = %v, want %v", tc.env, cfg.AdmissionTarget, tc.want)
			}
		})
	}
}
