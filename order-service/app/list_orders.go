package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// Bounds of one page of ListOrders.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// Validation codes of ListOrders, beside domain.CodeInvalidCustomerID.
const (
	CodeInvalidLimit  = "INVALID_LIMIT"
	CodeInvalidCursor = "INVALID_CURSOR"
)

// ErrInvalidCursor: a Repository cannot read the cursor it was given (it did not hand it out).
var ErrInvalidCursor = errors.New("invalid cursor")

// OrderPage is one page of a customer's orders, newest first. Next, when not empty, is the
// opaque cursor of the following page.
type OrderPage struct {
	Orders []domain.Order
	Next   string
}

// ListOrders returns up to limit of the customer's orders, newest first, starting after cursor
// (empty for the first page). limit 0 means DefaultListLimit. A bad argument returns a
// *domain.ValidationError.
func (a *App) ListOrders(ctx context.Context, customerID string, limit int, cursor string) (OrderPage, error) {
	switch {
	case strings.TrimSpace(customerID) == "":
		return OrderPage{}, &domain.ValidationError{Code: domain.CodeInvalidCustomerID, Message: "customerId is required"}
	case utf8.RuneCountInString(customerID) > domain.MaxFieldLength:
		return OrderPage{}, &domain.ValidationError{Code: domain.CodeInvalidCustomerID, Message: fmt.Sprintf("customerId must be at most %d characters", domain.MaxFieldLength)}
	case limit == 0:
		limit = DefaultListLimit
	case limit < 1 || limit > MaxListLimit:
		return OrderPage{}, &domain.ValidationError{Code: CodeInvalidLimit, Message: fmt.Sprintf("limit must be between 1 and %d", MaxListLimit)}
	}
	orders, next, err := a.repo.ListOrders(ctx, customerID, limit, cursor)
	if errors.Is(err, ErrInvalidCursor) {
		return OrderPage{}, &domain.ValidationError{Code: CodeInvalidCursor, Message: "cursor is not one this service handed out"}
	}
	if err != nil {
		return OrderPage{}, err
	}
	return OrderPage{Orders: orders, Next: next}, nil
}
