// Package gateway is the payment gateway simulator: a small, in-memory, Stripe-like charges API
// that payment-service calls in development and tests. It keeps nothing across restarts.
//
// HTTP contract (all bodies JSON, amounts in minor units):
//
//	POST /v1/charges   header Idempotency-Key (required, at most 255 characters)
//	                   body {"amount":12345,"currency":"EUR","paymentMethod":"pm_card_visa","description":"..."}
//	  201 Charge                                   approved (status "succeeded")
//	  402 {"error":{"code","message"},"charge":Charge}  declined (status "declined"); code is
//	      card_declined, insufficient_funds or invalid_payment_method, also in charge.declineCode
//	  400 {"error":{...}}   missing_idempotency_key, invalid_request, or httpx's MALFORMED_JSON /
//	      INVALID_FIELD for a body that does not decode
//	  409 {"error":{...}}   idempotency_key_reused: the key was used with another amount,
//	      currency or payment method
//	  503 {"error":{...}}   gateway_unavailable: pm_card_flaky's first attempt for a key
//	A request that repeats a key answers the stored status and body byte for byte (with header
//	Idempotent-Replayed: true) and charges nothing. 400, 409 and 503 answers are not stored.
//
//	GET /v1/charges/{id}                  200 Charge, or 404 resource_missing
//	GET /v1/charges[?idempotencyKey=key]  200 {"data":[Charge...]}: every charge made, oldest
//	                                      first, so a test can count the successful ones per key
//	GET /healthz, GET /readyz             200 (no dependencies)
//	GET /metrics                          Prometheus text: http_server_request_duration_seconds
//	                                      and the Go runtime and process collectors
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// Test payment-method tokens. Any other token is declined with CodeInvalidPaymentMethod.
const (
	TokenVisa              = "pm_card_visa"
	TokenMastercard        = "pm_card_mastercard"
	TokenDeclined          = "pm_card_declined"
	TokenInsufficientFunds = "pm_card_insufficient_funds"
	// TokenFlaky fails with 503 on the first attempt for an idempotency key, then approves: it
	// exercises a client's retries.
	TokenFlaky = "pm_card_flaky"
)

// Error codes of the gateway's answers.
const (
	CodeCardDeclined          = "card_declined"
	CodeInsufficientFunds     = "insufficient_funds"
	CodeInvalidPaymentMethod  = "invalid_payment_method"
	CodeMissingIdempotencyKey = "missing_idempotency_key"
	CodeInvalidRequest        = "invalid_request"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeUnavailable           = "gateway_unavailable"
	CodeNotFound              = "resource_missing"
)

// Charge statuses.
const (
	StatusSucceeded = "succeeded"
	StatusDeclined  = "declined"
)

// IdempotencyKeyHeader carries the client's idempotency key on POST /v1/charges.
const IdempotencyKeyHeader = "Idempotency-Key"

const maxKeyLength = 255

// ChargeParams is the body of POST /v1/charges.
type ChargeParams struct {
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	PaymentMethod string `json:"paymentMethod"`
	Description   string `json:"description,omitempty"`
}

func (p ChargeParams) validate() error {
	switch {
	case p.Amount <= 0:
		return fmt.Errorf("amount must be a positive number of minor units, not %d", p.Amount)
	case !isCurrency(p.Currency):
		return fmt.Errorf("currency %q is not a three-letter upper-case ISO 4217 code", p.Currency)
	case p.PaymentMethod == "":
		return fmt.Errorf("paymentMethod is required")
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Charge is one charge the gateway made, approved or declined.
type Charge struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	PaymentMethod  string    `json:"paymentMethod"`
	Description    string    `json:"description,omitempty"`
	DeclineCode    string    `json:"declineCode,omitempty"`
	IdempotencyKey string    `json:"idempotencyKey"`
	Created        time.Time `json:"created"`
}

// Declined is the body of a 402 answer: the error, and the declined charge it created.
type Declined struct {
	Error  httpx.ErrorDetail `json:"error"`
	Charge Charge            `json:"charge"`
}

// ChargeList is the body of GET /v1/charges.
type ChargeList struct {
	Data []Charge `json:"data"`
}

// answer is the response stored for an idempotency key, replayed as is.
type answer struct {
	params ChargeParams
	status int
	body   []byte
}

// Server is the simulator's state. One mutex serialises every request: processing is instant,
// and it guarantees that concurrent requests with one key never both charge.
type Server struct {
	mu        sync.Mutex
	charges   []Charge // every charge made, oldest first
	answers   map[string]answer
	flakySeen map[string]bool // keys whose first pm_card_flaky attempt already failed
	handler   http.Handler
}

// NewServer returns a simulator with no charges, with a metrics registry of its own.
func NewServer() *Server {
	s := &Server{answers: map[string]answer{}, flakySeen: map[string]bool{}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r := httpx.NewEngine(nil, telemetry.RequestID(), telemetry.HTTPMetrics(reg))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	r.POST("/v1/charges", s.createCharge)
	r.GET("/v1/charges", s.listCharges)
	r.GET("/v1/charges/:id", s.getCharge)
	s.handler = r
	return s
}

// NewHandler returns the HTTP handler of a fresh simulator.
func NewHandler() http.Handler { return NewServer().Handler() }

// Run serves a fresh simulator on addr until ctx is cancelled.
func Run(ctx context.Context, addr string, log *slog.Logger) error {
	log.Info("payment gateway simulator listening", "addr", addr)
	return httpx.Serve(ctx, addr, NewHandler())
}

// Handler returns the simulator's HTTP API.
func (s *Server) Handler() http.Handler { return s.handler }

// SuccessfulCharges counts the approved charges made under an idempotency key: more than one
// would mean a customer was charged twice.
func (s *Server) SuccessfulCharges(idempotencyKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ch := range s.charges {
		if ch.IdempotencyKey == idempotencyKey && ch.Status == StatusSucceeded {
			n++
		}
	}
	return n
}

func (s *Server) createCharge(c *gin.Context) {
	key := c.GetHeader(IdempotencyKeyHeader)
	if key == "" || len(key) > maxKeyLength {
		httpx.Error(c, http.StatusBadRequest, CodeMissingIdempotencyKey,
			fmt.Sprintf("header %s is required (1 to %d characters)", IdempotencyKeyHeader, maxKeyLength))
		return
	}
	var p ChargeParams
	if !httpx.BindJSON(c, &p) {
		return
	}
	if err := p.validate(); err != nil {
		httpx.Error(c, http.StatusBadRequest, CodeInvalidRequest, err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.answers[key]; ok {
		if prev.params.Amount != p.Amount || prev.params.Currency != p.Currency || prev.params.PaymentMethod != p.PaymentMethod {
			httpx.Error(c, http.StatusConflict, CodeIdempotencyKeyReused,
				"idempotency key "+key+" was already used with another amount, currency or payment method")
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(prev.status, "application/json; charset=utf-8", prev.body)
		return
	}
	if p.PaymentMethod == TokenFlaky && !s.flakySeen[key] {
		s.flakySeen[key] = true
		httpx.Error(c, http.StatusServiceUnavailable, CodeUnavailable, "the card network did not answer; retry with the same idempotency key")
		return
	}
	a := s.charge(key, p)
	s.answers[key] = a
	c.Data(a.status, "application/json; charset=utf-8", a.body)
}

// charge makes a charge for p as its token dictates and returns the answer to store.
func (s *Server) charge(key string, p ChargeParams) answer {
	ch := Charge{
		ID:             newChargeID(),
		Status:         StatusSucceeded,
		Amount:         p.Amount,
		Currency:       p.Currency,
		PaymentMethod:  p.PaymentMethod,
		Description:    p.Description,
		IdempotencyKey: key,
		Created:        time.Now().UTC(),
	}
	var message string
	switch p.PaymentMethod {
	case TokenVisa, TokenMastercard, TokenFlaky:
	case TokenDeclined:
		ch.DeclineCode, message = CodeCardDeclined, "the card was declined"
	case TokenInsufficientFunds:
		ch.DeclineCode, message = CodeInsufficientFunds, "the card has insufficient funds"
	default:
		ch.DeclineCode, message = CodeInvalidPaymentMethod, "no such payment method: "+p.PaymentMethod
	}
	status, body := http.StatusCreated, any(ch)
	if ch.DeclineCode != "" {
		ch.Status = StatusDeclined
		status, body = http.StatusPaymentRequired, Declined{Error: httpx.ErrorDetail{Code: ch.DeclineCode, Message: message}, Charge: ch}
	}
	s.charges = append(s.charges, ch)
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err) // plain structs always encode
	}
	return answer{params: p, status: status, body: raw}
}

func (s *Server) getCharge(c *gin.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.charges {
		if ch.ID == c.Param("id") {
			c.JSON(http.StatusOK, ch)
			return
		}
	}
	httpx.Error(c, http.StatusNotFound, CodeNotFound, "no such charge: "+c.Param("id"))
}

func (s *Server) listCharges(c *gin.Context) {
	key, filtered := c.GetQuery("idempotencyKey")
	s.mu.Lock()
	defer s.mu.Unlock()
	list := ChargeList{Data: []Charge{}}
	for _, ch := range s.charges {
		if !filtered || ch.IdempotencyKey == key {
			list.Data = append(list.Data, ch)
		}
	}
	c.JSON(http.StatusOK, list)
}

func newChargeID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "ch_" + hex.EncodeToString(b)
}
