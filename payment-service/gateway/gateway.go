// Package gateway is the payment gateway simulator: a small Stripe-like charges and refunds API
// that payment-service calls in development and tests. Its ledger (charges, refunds, idempotency
// keys) lives in memory, or, when opened with a ledger file, is also journaled to that file so a
// restarted gateway still refuses to charge a key twice.
//
// HTTP contract (all bodies JSON, amounts in minor units):
//
//	POST /v1/charges   header Idempotency-Key (required, at most 255 characters)
//	                   body {"amount":12345,"currency":"EUR","paymentMethod":"pm_card_visa","description":"..."}
//	  201 Charge                                   approved (status "succeeded")
//	  402 {"error":{"code","message"},"charge":Charge}  declined (status "declined"); code is
//	      card_declined, insufficient_funds, invalid_payment_method, or charge_voided when the
//	      key was refunded before it was ever charged; also in charge.declineCode
//	  400 {"error":{...}}   missing_idempotency_key, invalid_request, or httpx's MALFORMED_JSON /
//	      INVALID_FIELD for a body that does not decode
//	  409 {"error":{...}}   idempotency_key_reused: the key was used with another amount,
//	      currency or payment method; request_in_progress: another request with the key is
//	      still being processed (only while latency is injected), retry later
//	  503 {"error":{...}}   gateway_unavailable: pm_card_flaky's first attempt for a key, an
//	      injected error, or a ledger that cannot be written; nothing was charged
//	A request that repeats a key answers the stored status and body byte for byte (with header
//	Idempotent-Replayed: true) and charges nothing. 400, 409 and 503 answers are not stored.
//
//	POST /v1/refunds   header Idempotency-Key (the refund's own key), body
//	                   {"chargeIdempotencyKey":"tx-1","reason":"..."}
//	  201 Refund   status "refunded" (the approved charge's amount is returned), "voided" (the
//	      key was never charged: a later charge with it is declined with charge_voided) or
//	      "not_charged" (the charge was declined; nothing to return)
//	  200 Refund   the charge key was already refunded or voided by another refund: that refund
//	  400, 409 idempotency_key_reused (the refund key names another charge), 503 as for charges
//	A repeated refund key replays its stored answer, like charges.
//
//	GET /v1/charges/{idempotencyKey}      200 {"idempotencyKey","status","amount","currency",
//	                                      "chargeId","refundId"}, status "succeeded", "declined",
//	                                      "refunded" or "voided"; a charge id (ch_...) answers
//	                                      that Charge; 404 resource_missing otherwise
//	GET /v1/charges[?idempotencyKey=key]  200 {"data":[Charge...]}: every charge made, oldest
//	                                      first, so a test can count the successful ones per key
//	PUT /v1/faults {"latencyMs":2000,"errorRate":0.2}   200 Faults: from now on every POST waits
//	                                      latencyMs, then fails with 503 at rate errorRate
//	GET /v1/faults  200 Faults;  DELETE /v1/faults  204, no more faults
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
	CodeChargeVoided          = "charge_voided"
	CodeMissingIdempotencyKey = "missing_idempotency_key"
	CodeInvalidRequest        = "invalid_request"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeRequestInProgress     = "request_in_progress"
	CodeUnavailable           = "gateway_unavailable"
	CodeNotFound              = "resource_missing"
)

// Charge statuses. A Charge itself is succeeded or declined; GET /v1/charges/{idempotencyKey}
// also reports a key's refunded or voided state.
const (
	StatusSucceeded = "succeeded"
	StatusDeclined  = "declined"
	StatusRefunded  = "refunded"
	StatusVoided    = "voided"
)

// IdempotencyKeyHeader carries the client's idempotency key on POST /v1/charges and /v1/refunds.
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

// KeyStatus is the body of GET /v1/charges/{idempotencyKey}: where the money of one key stands.
type KeyStatus struct {
	IdempotencyKey string `json:"idempotencyKey"`
	Status         string `json:"status"`
	// Amount is what the charge was for (0 for a key voided before any charge).
	Amount   int64  `json:"amount"`
	Currency string `json:"currency,omitempty"`
	ChargeID string `json:"chargeId,omitempty"`
	RefundID string `json:"refundId,omitempty"`
}

// Server is the simulator's state. One mutex serialises the ledger: processing is instant, and
// it guarantees that concurrent requests with one key never both charge. Injected latency is
// spent outside the mutex, with the key marked in progress.
type Server struct {
	mu         sync.Mutex
	charges    chargeStore        // every charge made, oldest first, and the answers to replay
	flakySeen  map[string]bool    // keys whose first pm_card_flaky attempt already failed
	refunds    map[string]*Refund // the refund or void standing for each charge key
	refundKeys map[string]refundAnswer
	inProgress map[string]bool // charge and refund keys whose request is waiting out injected latency
	ledger     *ledger         // nil: in memory only
	handler    http.Handler

	faults faultState
}

// NewServer returns an in-memory simulator with no charges, with a metrics registry of its own.
func NewServer() *Server {
	s := &Server{
		charges:    newChargeStore(),
		flakySeen:  map[string]bool{},
		refunds:    map[string]*Refund{},
		refundKeys: map[string]refundAnswer{},
		inProgress: map[string]bool{},
	}
	reg := telemetry.NewRegistry()
	r := httpx.NewEngine(nil, telemetry.RequestID(), telemetry.HTTPMetrics(reg))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	r.POST("/v1/charges", s.createCharge)
	r.GET("/v1/charges", s.listCharges)
	r.GET("/v1/charges/:id", s.getCharge)
	r.POST("/v1/refunds", s.createRefund)
	r.GET("/v1/faults", s.getFaults)
	r.PUT("/v1/faults", s.putFaults)
	r.DELETE("/v1/faults", s.deleteFaults)
	s.handler = r
	return s
}

// Open returns a simulator whose ledger is journaled to the file at path, loading what an
// earlier run recorded there; "" is NewServer. Close releases the file.
func Open(path string) (*Server, error) {
	s := NewServer()
	if path == "" {
		return s, nil
	}
	l, err := openLedger(path, s.apply)
	if err != nil {
		return nil, err
	}
	s.ledger = l
	return s, nil
}

// Close closes the ledger file, if any.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ledger == nil {
		return nil
	}
	err := s.ledger.close()
	s.ledger = nil
	return err
}

// NewHandler returns the HTTP handler of a fresh in-memory simulator.
func NewHandler() http.Handler { return NewServer().Handler() }

// Run serves a simulator on addr until ctx is cancelled, journaling its ledger to ledgerPath
// ("" keeps it in memory).
func Run(ctx context.Context, addr, ledgerPath string, log *slog.Logger) error {
	s, err := Open(ledgerPath)
	if err != nil {
		return err
	}
	defer s.Close()
	log.Info("payment gateway simulator listening", "addr", addr, "ledger", ledgerPath)
	return httpx.Serve(ctx, addr, s.Handler())
}

// Handler returns the simulator's HTTP API.
func (s *Server) Handler() http.Handler { return s.handler }

// SuccessfulCharges counts the approved charges made under an idempotency key: more than one
// would mean a customer was charged twice.
func (s *Server) SuccessfulCharges(idempotencyKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, i := range s.charges.charged(idempotencyKey) {
		if s.charges.charge(i).Status == StatusSucceeded {
			n++
		}
	}
	return n
}

// KeyStatus reports where the money of an idempotency key stands, and false for a key never seen.
func (s *Server) KeyStatus(idempotencyKey string) (KeyStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyStatus(idempotencyKey)
}

func (s *Server) keyStatus(key string) (KeyStatus, bool) {
	i, charged := s.charges.lookup(key)
	r := s.refunds[key]
	if !charged && r == nil {
		return KeyStatus{}, false
	}
	st := KeyStatus{IdempotencyKey: key}
	if charged {
		ch := s.charges.charge(i)
		st.Status, st.Amount, st.Currency, st.ChargeID = ch.Status, ch.Amount, ch.Currency, ch.ID
	}
	if r != nil && r.Status != RefundNotCharged {
		st.RefundID = r.ID
		st.Status = StatusRefunded
		if r.Status == RefundVoided {
			st.Status = StatusVoided
		}
	}
	return st, true
}

func validKey(c *gin.Context) (string, bool) {
	key := c.GetHeader(IdempotencyKeyHeader)
	if key == "" || len(key) > maxKeyLength {
		httpx.Error(c, http.StatusBadRequest, CodeMissingIdempotencyKey,
			fmt.Sprintf("header %s is required (1 to %d characters)", IdempotencyKeyHeader, maxKeyLength))
		return "", false
	}
	return key, true
}

func (s *Server) createCharge(c *gin.Context) {
	key, ok := validKey(c)
	if !ok {
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
	if !s.injectFaults(c, "charge:"+key) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.charges.lookup(key); ok {
		if !s.charges.matches(i, p) {
			httpx.Error(c, http.StatusConflict, CodeIdempotencyKeyReused,
				"idempotency key "+key+" was already used with another amount, currency or payment method")
			return
		}
		c.Header("Idempotent-Replayed", "true")
		status, body := s.charges.answer(i)
		c.Data(status, "application/json; charset=utf-8", body)
		return
	}
	if p.PaymentMethod == TokenFlaky && !s.flakySeen[key] && s.refunds[key] == nil {
		if !s.record(c, entry{Kind: kindFlaky, Key: key}) {
			return
		}
		httpx.Error(c, http.StatusServiceUnavailable, CodeUnavailable, "the card network did not answer; retry with the same idempotency key")
		return
	}
	e := s.charge(key, p)
	if !s.record(c, e) {
		return
	}
	c.Data(e.Status, "application/json; charset=utf-8", e.Body)
}

// record journals e and applies it to the ledger in memory, or answers 503 when the journal
// cannot be written (then nothing happened). The caller holds s.mu.
func (s *Server) record(c *gin.Context, e entry) bool {
	if s.ledger != nil {
		if err := s.ledger.append(e); err != nil {
			httpx.Error(c, http.StatusServiceUnavailable, CodeUnavailable, "the ledger cannot be written: "+err.Error())
			return false
		}
	}
	if err := s.apply(e); err != nil {
		panic(err) // entries made here always apply
	}
	return true
}

// charge decides the charge for p as its token (or an earlier void) dictates and returns the
// ledger entry of its answer. It changes nothing: record applies the entry.
func (s *Server) charge(key string, p ChargeParams) entry {
	ch := Charge{
		ID:             newID("ch_"),
		Status:         StatusSucceeded,
		Amount:         p.Amount,
		Currency:       p.Currency,
		PaymentMethod:  p.PaymentMethod,
		Description:    p.Description,
		IdempotencyKey: key,
		Created:        time.Now().UTC(),
	}
	var message string
	switch {
	case s.refunds[key] != nil:
		ch.DeclineCode, message = CodeChargeVoided, "the charge was voided before it was made"
	case p.PaymentMethod == TokenVisa, p.PaymentMethod == TokenMastercard, p.PaymentMethod == TokenFlaky:
	case p.PaymentMethod == TokenDeclined:
		ch.DeclineCode, message = CodeCardDeclined, "the card was declined"
	case p.PaymentMethod == TokenInsufficientFunds:
		ch.DeclineCode, message = CodeInsufficientFunds, "the card has insufficient funds"
	default:
		ch.DeclineCode, message = CodeInvalidPaymentMethod, "no such payment method: "+p.PaymentMethod
	}
	status, body := http.StatusCreated, any(ch)
	if ch.DeclineCode != "" {
		ch.Status = StatusDeclined
		status, body = http.StatusPaymentRequired, Declined{Error: httpx.ErrorDetail{Code: ch.DeclineCode, Message: message}, Charge: ch}
	}
	return entry{Kind: kindCharge, Key: key, Params: &p, Charge: &ch, Status: status, Body: mustJSON(body)}
}

func (s *Server) getCharge(c *gin.Context) {
	id := c.Param("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.keyStatus(id); ok {
		c.JSON(http.StatusOK, st)
		return
	}
	for i := range s.charges.len() { // a scan, as rare as GET by charge id is: no index to keep
		if string(s.charges.id(i)) == id {
			c.JSON(http.StatusOK, s.charges.charge(i))
			return
		}
	}
	httpx.Error(c, http.StatusNotFound, CodeNotFound, "no charge has idempotency key or id "+id)
}

func (s *Server) listCharges(c *gin.Context) {
	key, filtered := c.GetQuery("idempotencyKey")
	s.mu.Lock()
	defer s.mu.Unlock()
	list := ChargeList{Data: []Charge{}}
	if filtered {
		for _, i := range s.charges.charged(key) {
			list.Data = append(list.Data, s.charges.charge(i))
		}
	} else {
		for i := range s.charges.len() {
			list.Data = append(list.Data, s.charges.charge(i))
		}
	}
	c.JSON(http.StatusOK, list)
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs always encode
	}
	return raw
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}
