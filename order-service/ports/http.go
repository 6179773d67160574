// Package ports connects order-service to the outside: HTTP routes (http.go) and Kafka event
// handlers (events.go), both thin layers over package app.
package ports

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// Error codes of the HTTP API, beside domain's validation codes and httpx's MALFORMED_JSON,
// INVALID_FIELD and BODY_TOO_LARGE.
const (
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	CodeOrderNotFound        = "ORDER_NOT_FOUND"
	CodeInternal             = "INTERNAL"
)

// RegisterHTTP adds POST /orders, GET /orders (a customer's orders), GET
// /orders/:transactionId and GET /orders/:transactionId/events (its history as Server-Sent
// Events) to r.
func RegisterHTTP(r gin.IRouter, a *app.App, log *slog.Logger) {
	h := handlers{app: a, log: log, streams: httpx.NewSlots(MaxOrderStreams)}
	r.POST("/orders", h.placeOrder)
	r.GET("/orders", h.listOrders)
	r.GET("/orders/:transactionId", h.getOrder)
	r.GET("/orders/:transactionId/events", h.orderEvents)
}

type handlers struct {
	app     *app.App
	log     *slog.Logger
	streams httpx.Slots // one per open GET /orders/{id}/events
}

type itemJSON struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type placeOrderRequest struct {
	CustomerID    string     `json:"customerId"`
	Items         []itemJSON `json:"items"`
	PaymentMethod string     `json:"paymentMethod"`
}

type placeOrderResponse struct {
	TransactionID string        `json:"transactionId"`
	Status        domain.Status `json:"status"`
}

func (h handlers) placeOrder(c *gin.Context) {
	var req placeOrderRequest
	if !httpx.BindJSON(c, &req) {
		return
	}
	items := make([]domain.Item, len(req.Items))
	for i, it := range req.Items {
		items[i] = domain.Item{SKU: it.SKU, Quantity: it.Quantity}
	}
	id, err := h.app.PlaceOrder(c.Request.Context(), app.PlaceOrder{
		IdempotencyKey: c.GetHeader("Idempotency-Key"),
		CustomerID:     req.CustomerID,
		Items:          items,
		PaymentMethod:  req.PaymentMethod,
	})
	var invalid *domain.ValidationError
	switch {
	case errors.As(err, &invalid):
		httpx.Error(c, http.StatusBadRequest, invalid.Code, invalid.Message)
		return
	case errors.Is(err, app.ErrOverloaded):
		// Nothing was stored: the client may send the same request again after Retry-After.
		httpx.Overloaded(c, time.Second, "too many orders are still being processed; retry after the Retry-After seconds")
		return
	case errors.Is(err, app.ErrIdempotencyKeyReused):
		httpx.Error(c, http.StatusUnprocessableEntity, CodeIdempotencyKeyReused, "this Idempotency-Key was already used with a different request body")
		return
	case err != nil:
		h.log.ErrorContext(c.Request.Context(), "place order", "error", err)
		// The write may have committed all the same (a timeout after the store took it).
		httpx.Error(c, http.StatusInternalServerError, CodeInternal, "whether the order was stored is unknown; retry with the same Idempotency-Key, which answers as the first request would have (without one a retry may place a second order)")
		return
	}
	// A retry with the same key answers exactly as the first request did.
	c.Header("Location", "/orders/"+id)
	c.JSON(http.StatusAccepted, placeOrderResponse{TransactionID: id, Status: domain.StatusPending})
}

type historyJSON struct {
	Type    string    `json:"type"`
	At      time.Time `json:"at"`
	EventID string    `json:"eventId"`
	Applied bool      `json:"applied"`
}

// orderResponse is GET /orders/{id}: the order's summary and its history.
type orderResponse struct {
	orderSummary
	History []historyJSON `json:"history"`
}

func (h handlers) getOrder(c *gin.Context) {
	id := c.Param("transactionId")
	// Only ids this service hands out can exist; anything else is not looked up.
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		httpx.Error(c, http.StatusNotFound, CodeOrderNotFound, "no order "+id)
		return
	}
	o, err := h.app.GetOrder(c.Request.Context(), id)
	switch {
	case errors.Is(err, app.ErrNotFound):
		httpx.Error(c, http.StatusNotFound, CodeOrderNotFound, "no order "+id)
		return
	case err != nil:
		h.log.ErrorContext(c.Request.Context(), "get order", "transactionId", id, "error", err)
		httpx.Error(c, http.StatusInternalServerError, CodeInternal, "the order could not be read")
		return
	}
	c.JSON(http.StatusOK, toOrderResponse(o))
}

func toOrderResponse(o domain.Order) orderResponse {
	resp := orderResponse{orderSummary: toOrderSummary(o), History: make([]historyJSON, len(o.History))}
	for i, e := range o.History {
		resp.History[i] = historyJSON{Type: string(e.Type), At: e.At.UTC(), EventID: e.EventID, Applied: e.Applied}
	}
	return resp
}

func toOrderSummary(o domain.Order) orderSummary {
	sum := orderSummary{
		TransactionID: o.TransactionID,
		CustomerID:    o.CustomerID,
		Items:         make([]itemJSON, len(o.Items)),
		PaymentMethod: o.PaymentMethod,
		Status:        o.Status,
		Reason:        o.Reason,
		Currency:      o.Currency,
		CreatedAt:     o.CreatedAt.UTC(),
		UpdatedAt:     o.UpdatedAt.UTC(),
	}
	if o.AmountKnown() {
		amount := o.Amount
		sum.Amount = &amount
	}
	for i, it := range o.Items {
		sum.Items[i] = itemJSON{SKU: it.SKU, Quantity: it.Quantity}
	}
	return sum
}
