package gateway

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// Refund statuses.
const (
	// RefundRefunded: the approved charge's amount went back to the customer.
	RefundRefunded = "refunded"
	// RefundVoided: the key was never charged; a later charge with it is declined.
	RefundVoided = "voided"
	// RefundNotCharged: the key's charge was declined, so there was nothing to give back.
	RefundNotCharged = "not_charged"
)

const maxReasonLength = 500

// RefundParams is the body of POST /v1/refunds. ChargeIdempotencyKey names the charge to refund
// by the idempotency key it was (or would be) made with.
type RefundParams struct {
	ChargeIdempotencyKey string `json:"chargeIdempotencyKey"`
	Reason               string `json:"reason,omitempty"`
}

// Refund is one refund or void the gateway recorded.
type Refund struct {
	ID                   string    `json:"id"`
	Status               string    `json:"status"`
	ChargeIdempotencyKey string    `json:"chargeIdempotencyKey"`
	ChargeID             string    `json:"chargeId,omitempty"`
	Amount               int64     `json:"amount"`
	Currency             string    `json:"currency,omitempty"`
	Reason               string    `json:"reason,omitempty"`
	IdempotencyKey       string    `json:"idempotencyKey"`
	Created              time.Time `json:"created"`
}

// refundAnswer is the response stored for a refund's idempotency key.
type refundAnswer struct {
	chargeKey string
	status    int
	body      []byte
}

func (s *Server) createRefund(c *gin.Context) {
	key, ok := validKey(c)
	if !ok {
		return
	}
	var p RefundParams
	if !httpx.BindJSON(c, &p) {
		return
	}
	switch {
	case p.ChargeIdempotencyKey == "" || len(p.ChargeIdempotencyKey) > maxKeyLength:
		httpx.Error(c, http.StatusBadRequest, CodeInvalidRequest,
			fmt.Sprintf("chargeIdempotencyKey is required (1 to %d characters)", maxKeyLength))
		return
	case len(p.Reason) > maxReasonLength:
		httpx.Error(c, http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("reason is longer than %d characters", maxReasonLength))
		return
	}
	if !s.injectFaults(c, "refund:"+key) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.refundKeys[key]; ok {
		if prev.chargeKey != p.ChargeIdempotencyKey {
			httpx.Error(c, http.StatusConflict, CodeIdempotencyKeyReused,
				"idempotency key "+key+" was already used to refund another charge")
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(prev.status, "application/json; charset=utf-8", prev.body)
		return
	}
	status, r := http.StatusCreated, s.refund(key, p)
	if existing := s.refunds[p.ChargeIdempotencyKey]; existing != nil {
		// Refunded or voided already, under another refund key: never twice.
		status, r = http.StatusOK, *existing
	}
	body := mustJSON(r)
	if !s.record(c, entry{Kind: kindRefund, Key: key, Refund: &r, Status: status, Body: body}) {
		return
	}
	c.Data(status, "application/json; charset=utf-8", body)
}

// refund decides the refund of p's charge key: the approved amount back, a void for a key never
// charged, or nothing for a declined charge. It changes nothing: record applies it.
func (s *Server) refund(key string, p RefundParams) Refund {
	r := Refund{
		ID:                   newID("re_"),
		Status:               RefundVoided,
		ChargeIdempotencyKey: p.ChargeIdempotencyKey,
		Reason:               p.Reason,
		IdempotencyKey:       key,
		Created:              time.Now().UTC(),
	}
	if i, charged := s.charges.lookup(p.ChargeIdempotencyKey); charged {
		ch := s.charges.charge(i)
		r.ChargeID, r.Currency = ch.ID, ch.Currency
		r.Status = RefundNotCharged
		if ch.Status == StatusSucceeded {
			r.Status, r.Amount = RefundRefunded, ch.Amount
		}
	}
	return r
}
