// Package loadgen drives the EDM Shop saga through its public HTTP APIs, as shoppers and an
// operator would, and checks what must hold however fast it runs: every order ends COMPLETED or
// CANCELLED, no declined card completes, no SKU sells more than its stock. Three modes: a
// closed loop (N orders by C clients), an open loop (a fixed offered rate for a fixed time, to
// offer overload on purpose) and a flash sale (N one-unit orders for S units of one SKU).
// cmd/loadgen runs it against any running platform; cmd/sagabench runs it for `make bench`.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Payment-method tokens of the gateway simulator (payment-service/gateway): the first approves,
// the second declines with card_declined.
const (
	ApprovingCard = "pm_card_visa"
	DecliningCard = "pm_card_declined"
)

// Order statuses and reasons of the order-service API.
const (
	StatusCompleted = "COMPLETED"
	StatusCancelled = "CANCELLED"
)

// Client talks to order-service and inventory-service over keep-alive connections.
type Client struct {
	OrderURL, InventoryURL string
	// AdminToken is inventory-service's operator token (Authorization: Bearer).
	AdminToken string
	http       *http.Client
}

// NewClient returns a client whose connection pool keeps up to conns idle connections per
// service, so that many concurrent callers reuse connections instead of opening new ones (the
// generator must not be what limits the rate).
func NewClient(orderURL, inventoryURL, adminToken string, conns int) *Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{OrderURL: orderURL, InventoryURL: inventoryURL, AdminToken: adminToken,
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Close drops the idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Product is a product as GET /products/{sku} answers it.
type Product struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	Currency  string `json:"currency"`
	Available int    `json:"available"`
	Reserved  int    `json:"reserved"`
}

// Order is what GET /orders/{id} answers, as far as the generator needs it.
type Order struct {
	TransactionID string    `json:"transactionId"`
	PaymentMethod string    `json:"paymentMethod"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	Items         []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"items"`
}

// Terminal reports whether the saga is done with the order.
func (o Order) Terminal() bool { return o.Status == StatusCompleted || o.Status == StatusCancelled }

// StatusError is an answer with an unexpected HTTP status.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string
	RetryAfter  string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Body)
}

// do sends a JSON request and decodes a JSON answer of status want into out.
func (c *Client) do(ctx context.Context, method, url string, header http.Header, body, out any, want ...int) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, url, err)
				}
			}
			return resp.StatusCode, nil
		}
	}
	return resp.StatusCode, &StatusError{Method: method, URL: url, Status: resp.StatusCode, Body: string(bytes.TrimSpace(data)), RetryAfter: resp.Header.Get("Retry-After")}
}

func (c *Client) admin() http.Header {
	return http.Header{"Authorization": {"Bearer " + c.AdminToken}}
}

// PutProduct creates or replaces a product through the operator API.
func (c *Client) PutProduct(ctx context.Context, p Product) (Product, error) {
	var out Product
	_, err := c.do(ctx, http.MethodPut, c.InventoryURL+"/products/"+p.SKU, c.admin(),
		map[string]any{"name": p.Name, "price": p.Price, "currency": p.Currency, "available": p.Available}, &out, 200, 201)
	return out, err
}

// GetProduct reads a product.
func (c *Client) GetProduct(ctx context.Context, sku string) (Product, error) {
	var out Product
	_, err := c.do(ctx, http.MethodGet, c.InventoryURL+"/products/"+sku, nil, nil, &out, 200)
	return out, err
}

// PlaceOrder places an order of quantity units of sku, paid with card, under an idempotency
// key, and returns its transactionId. A refusal for overload is a *StatusError with Status 503.
func (c *Client) PlaceOrder(ctx context.Context, key, customer, sku string, quantity int, card string) (string, error) {
	var out struct {
		TransactionID string `json:"transactionId"`
	}
	body := map[string]any{"customerId": customer, "items": []map[string]any{{"sku": sku, "quantity": quantity}}, "paymentMethod": card}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		// The same key makes a retry after a lost answer, or after a 500 from a store that
		// timed out but did commit, return the order the first try made instead of counting
		// an order that exists as failed.
		_, err = c.do(ctx, http.MethodPost, c.OrderURL+"/orders", http.Header{"Idempotency-Key": {key}}, body, &out, 202)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
	return out.TransactionID, err
}

// retryable reports whether placing an order again under the same key may succeed: after a
// connection error or a server error, but not after a refusal (4xx) or an overload (503, which
// the callers pace themselves).
func retryable(err error) bool {
	se, isStatus := err.(*StatusError)
	if !isStatus {
		return true
	}
	return se.Status >= 500 && se.Status != http.StatusServiceUnavailable
}

// GetOrder reads an order.
func (c *Client) GetOrder(ctx context.Context, id string) (Order, error) {
	var out Order
	_, err := c.do(ctx, http.MethodGet, c.OrderURL+"/orders/"+id, nil, nil, &out, 200)
	return out, err
}

func itoa(i int) string { return strconv.Itoa(i) }
