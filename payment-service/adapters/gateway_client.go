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
// timeout, 408, 409 request_in_progress, 429, 5xx) and how long it waits between tries: Initial, doubling up to Max.
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

// GatewayClient charges and refunds orders through the payment gateway's HTTP API (see package
// payment-service/gateway for the contract). Every charge carries an idempotency key, which is
// what makes retrying it safe.
type GatewayClient struct {
	baseURL string
	http    *http.Client
	backoff Backoff
}

// idleConns is how many idle connections to the gateway the client keeps. The consumer charges
// many orders at once (service.Lanes per partition, 384 over 12 partitions); with net/http's
// default of two, most charges opened and closed a connection of their own.
const idleConns = 512

// NewGatewayClient returns a client of the gateway at baseURL (e.g. http://127.0.0.1:8084).
func NewGatewayClient(baseURL string, backoff Backoff) *GatewayClient {
	backoff.Attempts = max(backoff.Attempts, 1)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = idleConns, idleConns
	return &GatewayClient{
		baseURL: strings.TrimRight(baseURL, "/"),
		// A charge is a client span of the event being handled, and carries its traceparent.
		http: &http.Client{Timeout: RequestTimeout, Transport: otelhttp.NewTransport(transport,
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

type refundParams struct {
	ChargeIdempotencyKey string `json:"chargeIdempotencyKey"`
	Reason               string `json:"reason,omitempty"`
}

type refund struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
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
// returns the approval or the decline; a *domain.RejectionError (matching
// domain.ErrChargeRejected) when the gateway refuses the request for good (400, 422, or 409 other
// than request_in_progress); any other error when the gateway could not be reached, is busy with
// the same key, or answered strangely, which a later retry may cure.
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
	var res domain.ChargeResult
	err = c.retry(ctx, "charge "+req.IdempotencyKey, func() error {
		code, header, raw, err := c.post(ctx, "/v1/charges", req.IdempotencyKey, body)
		if err != nil {
			return err
		}
		res, err = readCharge(code, header.Get("Idempotent-Replayed") == "true", raw)
		return err
	})
	return res, err
}

// Refund asks the gateway to give back the charge made under req.ChargeIdempotencyKey, or to
// void that key if it was never charged, retrying transient failures like Charge. However often
// it is called, a charge is refunded once.
func (c *GatewayClient) Refund(ctx context.Context, req domain.RefundRequest) (domain.RefundResult, error) {
	body, err := json.Marshal(refundParams{ChargeIdempotencyKey: req.ChargeIdempotencyKey, Reason: req.Reason})
	if err != nil {
		return domain.RefundResult{}, err
	}
	var res domain.RefundResult
	err = c.retry(ctx, "refund "+req.ChargeIdempotencyKey, func() error {
		code, _, raw, err := c.post(ctx, "/v1/refunds", req.IdempotencyKey, body)
		if err != nil {
			return err
		}
		res, err = readRefund(code, raw)
		return err
	})
	return res, err
}

// retry runs once until it succeeds or fails other than transiently, waiting with backoff.
func (c *GatewayClient) retry(ctx context.Context, what string, once func() error) error {
	wait := c.backoff.Initial
	for attempt := 1; ; attempt++ {
		err := once()
		var transient transientError
		if err == nil || !errors.As(err, &transient) {
			return err
		}
		if attempt == c.backoff.Attempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last attempt: %v)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, c.backoff.Max)
	}
}

// post sends one request and returns the answer's status, headers and body. An error is transient
// unless ctx ended.
func (c *GatewayClient) post(ctx context.Context, path, key string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, err
		}
		return 0, nil, nil, transientError{fmt.Errorf("call payment gateway: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, transientError{fmt.Errorf("read payment gateway answer: %w", err)}
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// readCharge reads the answer to a charge; replayed says the gateway answered from an earlier
// request with the same key (header Idempotent-Replayed).
func readCharge(code int, replayed bool, raw []byte) (domain.ChargeResult, error) {
	switch code {
	case http.StatusOK, http.StatusCreated:
		var ch charge
		if err := json.Unmarshal(raw, &ch); err != nil || ch.ID == "" || ch.Status != "succeeded" {
			return domain.ChargeResult{}, fmt.Errorf("payment gateway answered %d with an unexpected body: %.200s", code, raw)
		}
		return domain.ChargeResult{Approved: true, ChargeID: ch.ID, Replayed: replayed}, nil
	case http.StatusPaymentRequired:
		var a errorAnswer
		if err := json.Unmarshal(raw, &a); err != nil || a.Error.Code == "" {
			return domain.ChargeResult{}, fmt.Errorf("payment gateway answered 402 with an unexpected body: %.200s", raw)
		}
		return domain.ChargeResult{ChargeID: a.Charge.ID, DeclineCode: a.Error.Code, Replayed: replayed}, nil
	}
	return domain.ChargeResult{}, failure(code, raw)
}

func readRefund(code int, raw []byte) (domain.RefundResult, error) {
	if code != http.StatusOK && code != http.StatusCreated {
		return domain.RefundResult{}, failure(code, raw)
	}
	var r refund
	if err := json.Unmarshal(raw, &r); err != nil || r.ID == "" || r.Status == "" {
		return domain.RefundResult{}, fmt.Errorf("payment gateway answered %d with an unexpected body: %.200s", code, raw)
	}
	return domain.RefundResult{RefundID: r.ID, Status: r.Status, Amount: r.Amount}, nil
}

// codeInProgress is the gateway's 409 for a key whose earlier request is still being processed:
// unlike the other 409s, it passes.
const codeInProgress = "request_in_progress"

// failure classifies an answer that is neither success nor decline: a refusal for good
// (*domain.RejectionError), a transient failure, or a plain error.
func failure(code int, raw []byte) error {
	var a errorAnswer
	_ = json.Unmarshal(raw, &a)
	switch {
	case code == http.StatusConflict && a.Error.Code == codeInProgress:
		return transientError{errors.New(describe(code, raw))}
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusUnprocessableEntity:
		rej := &domain.RejectionError{Code: a.Error.Code, Message: a.Error.Message}
		if rej.Code == "" {
			rej.Message = describe(code, raw)
		}
		return rej
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return transientError{errors.New(describe(code, raw))}
	default:
		return errors.New(describe(code, raw))
	}
}

// describe says what the gateway answered, for logs and errors.
func describe(code int, raw []byte) string {
	var a errorAnswer
	if json.Unmarshal(raw, &a) == nil && a.Error.Code != "" {
		return fmt.Sprintf("payment gateway answered %d: %s: %s", code, a.Error.Code, a.Error.Message)
	}
	return fmt.Sprintf("payment gateway answered %d: %.200s", code, raw)
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
