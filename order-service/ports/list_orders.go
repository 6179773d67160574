package ports

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// orderSummary is an order in a list: the order without its history.
type orderSummary struct {
	TransactionID string        `json:"transactionId"`
	CustomerID    string        `json:"customerId"`
	Items         []itemJSON    `json:"items"`
	PaymentMethod string        `json:"paymentMethod"`
	Status        domain.Status `json:"status"`
	Reason        string        `json:"reason,omitempty"`
	Amount        *int64        `json:"amount,omitempty"`
	Currency      string        `json:"currency,omitempty"`
	CreatedAt     time.Time     `json:"createdAt"`
	UpdatedAt     time.Time     `json:"updatedAt"`
}

// listOrdersResponse is one page: Next, when present, is the cursor of the following one.
type listOrdersResponse struct {
	Orders []orderSummary `json:"orders"`
	Next   string         `json:"next,omitempty"`
}

// listOrders answers GET /orders?customerId=..&limit=..&cursor=..: the customer's orders,
// newest first.
func (h handlers) listOrders(c *gin.Context) {
	limit := 0
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			httpx.Error(c, http.StatusBadRequest, app.CodeInvalidLimit, "limit must be a whole number between 1 and "+strconv.Itoa(app.MaxListLimit))
			return
		}
		limit = n
	}
	page, err := h.app.ListOrders(c.Request.Context(), c.Query("customerId"), limit, c.Query("cursor"))
	var invalid *domain.ValidationError
	switch {
	case errors.As(err, &invalid):
		httpx.Error(c, http.StatusBadRequest, invalid.Code, invalid.Message)
		return
	case err != nil:
		h.log.ErrorContext(c.Request.Context(), "list orders", "error", err)
		httpx.Error(c, http.StatusInternalServerError, CodeInternal, "the orders could not be read")
		return
	}
	resp := listOrdersResponse{Orders: make([]orderSummary, len(page.Orders)), Next: page.Next}
	for i, o := range page.Orders {
		resp.Orders[i] = toOrderSummary(o)
	}
	c.JSON(http.StatusOK, resp)
}
