// Package adapters holds payment-service's clients of the outside world: the payment gateway.
package adapters

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// Backoff says how often GatewayClient tries a charge that fails transiently (network error,
// timeout, 408, 429, 5xx) and how long it waits between tries: Initial, doubling up to Max.
type Backoff struct {
	Attempts int // tries in all, at least 1
	Initial  time.Duration
	Max      time.Duration
}

// DefaultBackoff tries five times over about 1.5 s. After that the charge fails with a plain
// error and the Kafka consumer retries the whole event later.
var DefaultBackoff = Backoff{Attempts: 5, Initial: 100 * time.Millisecond, Max: 2 * time.Second}

// RequestTimeout bounds one HTTP request to the gateway.
const RequestTimeout = 5 * time.Second

// GatewayClient charges orders through the payment gateway's HTTP API (see package
// payment-service/gateway for the contract). Every charge carries an idempotency key, which is
// what makes retrying it safe.
type GatewayClient struct {
	baseURL string
	http    *http.Client
	backoff Backoff
}

// NewGatewayClient returns a client of the gateway at baseURL (e.g. http://127.0.0.1:8084).
func NewGatewayClient(baseURL string, backoff Backoff) *GatewayClient {
	backoff.Attempts = max(backoff.Attempts, 1)
	return &GatewayClient{
		baseURL: strings.TrimRight(baseURL, "/"),
		// A charge is a client span of the event being handled, and carries its traceparent.
		http: &http.Client{Timeout: RequestTimeout, Transport: otelhttp.NewTransport(http.DefaultTransport,
			otelhttp.WithTracerProvider(telemetry.ParentTracerProvider),
			otelhttp.WithPropagators(telemetry.Propagator))},
		backoff: backoff,
	}
}

// chargeParams and the types below are the gateway's JSON, as this client reads it.
type chargeParams struct {
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	PaymentMethod string `json:"paymentMethod"`
	Description   string `json:"description,omitempty"`
}

type charge struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Charge charge `json:"charge"`
}

// transientError is a failure worth trying again in a moment.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// Charge asks the gateway to make req's charge, retrying transient failures with backoff. It
// returns the approval or the decline; an error wrapping domain.ErrChargeRejected when the
// gateway refuses the request itself (400, 409, 422); any other error when the gateway could not
// be reached or answered strangely, which a later retry may cure.
func (c *GatewayClient) Charge(ctx context.Context, req domain.ChargeRequest) (domain.ChargeResult, error) {
	body, err := json.Marshal(chargeParams{
		Amount:        req.Amount,
		Currency:      req.Currency,
		PaymentMethod: req.PaymentMethod,
		Description:   req.Description,
	})
	if err != nil {
		return domain.ChargeResult{}, err
	}
	wait := c.backoff.Initial
	for attempt := 1; ; attempt++ {
		res, err := c.chargeOnce(ctx, req.IdempotencyKey, body)
		var transient transientError
		if err == nil || !errors.As(err, &transient) {
			return res, err
		}
		if attempt == c.backoff.Attempts {
			return res, fmt.Errorf("charge %s: gave up after %d attempts: %w", req.IdempotencyKey, attempt, err)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("charge %s: %w (last attempt: %v)", req.IdempotencyKey, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, c.backoff.Max)
	}
}

func (c *GatewayClient) chargeOnce(ctx context.Context, key string, body []byte) (domain.ChargeResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/v1/charges", bytes.NewReader(body))
	if err != nil {
		return domain.ChargeResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return domain.ChargeResult{}, err
		}
		return domain.ChargeResult{}, transientError{fmt.Errorf("call payment gateway: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return domain.ChargeResult{}, transientError{fmt.Errorf("read payment gateway answer: %w", err)}
	}

	switch code := resp.StatusCode; {
	case code == http.StatusOK || code == http.StatusCreated:
		var ch charge
		if err := json.Unmarshal(raw, &ch); err != nil || ch.ID == "" || ch.Status != "succeeded" {
			return domain.ChargeResult{}, fmt.Errorf("payment gateway answered %d with an unexpected body: %.200s", code, raw)
		}
		return domain.ChargeResult{Approved: true, ChargeID: ch.ID, Replayed: replayed(resp)}, nil
	case code == http.StatusPaymentRequired:
		var a errorAnswer
		if err := json.Unmarshal(raw, &a); err != nil || a.Error.Code == "" {
			return domain.ChargeResult{}, fmt.Errorf("payment gateway answered 402 with an unexpected body: %.200s", raw)
		}
		return domain.ChargeResult{ChargeID: a.Charge.ID, DeclineCode: a.Error.Code, Replayed: replayed(resp)}, nil
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusUnprocessableEntity:
		return domain.ChargeResult{}, fmt.Errorf("%w: %s", domain.ErrChargeRejected, describe(resp, raw))
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return domain.ChargeResult{}, transientError{errors.New(describe(resp, raw))}
	default:
		return domain.ChargeResult{}, errors.New(describe(resp, raw))
	}
}

// replayed reports whether the gateway answered from an earlier request with the same key.
func replayed(resp *http.Response) bool { return resp.Header.Get("Idempotent-Replayed") == "true" }

// describe says what the gateway answered, for logs and errors.
func describe(resp *http.Response, raw []byte) string {
	var a errorAnswer
	if json.Unmarshal(raw, &a) == nil && a.Error.Code != "" {
		return fmt.Sprintf("payment gateway answered %s: %s: %s", resp.Status, a.Error.Code, a.Error.Message)
	}
	return fmt.Sprintf("payment gateway answered %s: %.200s", resp.Status, raw)
}

// Ping checks that the gateway answers GET /healthz with 200.
func (c *GatewayClient) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("payment gateway /healthz answered %s", resp.Status)
	}
	return nil
}
