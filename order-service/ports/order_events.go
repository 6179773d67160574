package ports

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// FollowPoll is how often GET /orders/{id}/events reads the store for entries another replica
// recorded; entries this replica records are sent as it stores them.
var FollowPoll = time.Second

// MaxOrderStreams bounds the GET /orders/{id}/events streams open at once (a var for tests):
// each reads the store every FollowPoll until its order ends, and asks for no credentials.
// Past it a stream is refused with 503 TOO_MANY_STREAMS; the order is still at GET /orders/{id}.
var MaxOrderStreams = 1000

// CodeTooManyStreams is the error code of a stream refused because MaxOrderStreams are open.
const CodeTooManyStreams = "TOO_MANY_STREAMS"

// orderState is the order as it stands after the entries sent before it.
type orderState struct {
	Status    domain.Status `json:"status"`
	Reason    string        `json:"reason,omitempty"`
	Amount    *int64        `json:"amount,omitempty"`
	Currency  string        `json:"currency,omitempty"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// orderEvents answers GET /orders/:transactionId/events with a Server-Sent Events stream:
// one "entry" event per history entry (id: its eventId), first those so far and then each as
// it is recorded, each batch followed by an "order" event with the status they led to; after
// the order's terminal status comes an "end" event and the stream closes.
func (h handlers) orderEvents(c *gin.Context) {
	id := c.Param("transactionId")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		httpx.Error(c, http.StatusNotFound, CodeOrderNotFound, "no order "+id)
		return
	}
	release, ok := h.streams.Take(c, CodeTooManyStreams, "too many order streams are open; read GET /orders/"+id+" or try again later")
	if !ok {
		return
	}
	defer release()
	ctx, cancel := httpx.StreamContext(c)
	defer cancel()
	sse := httpx.NewSSE(c)
	err := h.app.FollowOrder(ctx, id, FollowPoll, func(entries []domain.HistoryEntry, o domain.Order) error {
		for _, e := range entries {
			if err := sse.Send("entry", e.EventID, historyJSON{Type: string(e.Type), At: e.At.UTC(), EventID: e.EventID, Applied: e.Applied}); err != nil {
				return err
			}
		}
		full := toOrderResponse(o)
		state := orderState{Status: full.Status, Reason: full.Reason, Amount: full.Amount, Currency: full.Currency, UpdatedAt: full.UpdatedAt}
		if err := sse.Send("order", "", state); err != nil {
			return err
		}
		if o.Status == domain.StatusCompleted || o.Status == domain.StatusCancelled {
			return sse.Send("end", "", state)
		}
		return nil
	})
	switch {
	case errors.Is(err, app.ErrNotFound):
		httpx.Error(c, http.StatusNotFound, CodeOrderNotFound, "no order "+id)
	case err != nil && !sse.Started():
		h.log.ErrorContext(c.Request.Context(), "follow order", "transactionId", id, "error", err)
		httpx.Error(c, http.StatusInternalServerError, CodeInternal, "the order could not be read")
	case err != nil && ctx.Err() == nil:
		// The stream is open; a client reconnects (EventSource does) and gets the history again.
		h.log.WarnContext(c.Request.Context(), "follow order", "transactionId", id, "error", err)
	}
}
