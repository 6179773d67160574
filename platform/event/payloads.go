package event

import (
	"errors"
	"fmt"
)

// Item is a quantity of one SKU.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// PricedItem is an Item with the unit price inventory-service charged for it, in minor units.
type PricedItem struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
}

// OrderCreate is the payload of ORDER_CREATE.
type OrderCreate struct {
	TransactionID string `json:"transactionId"`
	CustomerID    string `json:"customerId"`
	Items         []Item `json:"items"`
	// PaymentMethod is a payment-method token such as pm_card_visa, never card data.
	PaymentMethod string `json:"paymentMethod"`
}

// ItemReserved is the payload of ITEM_RESERVED.
type ItemReserved struct {
	TransactionID string       `json:"transactionId"`
	CustomerID    string       `json:"customerId"`
	Items         []PricedItem `json:"items"`
	Amount        int64        `json:"amount"`
	Currency      string       `json:"currency"`
	PaymentMethod string       `json:"paymentMethod"`
}

// OutOfStock is the payload of OUT_OF_STOCK: inventory reserved nothing. Reason is
// ReasonOutOfStock, ReasonUnknownSKU or ReasonMixedCurrency; SKU names the first item that could
// not be reserved (for ReasonMixedCurrency, the first priced in another currency than the first).
type OutOfStock struct {
	TransactionID string `json:"transactionId"`
	Reason        string `json:"reason"`
	SKU           string `json:"sku,omitempty"`
}

// PaymentComplete is the payload of PAYMENT_COMPLETE.
type PaymentComplete struct {
	TransactionID string `json:"transactionId"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	ChargeID      string `json:"chargeId"`
}

// PaymentFailed is the payload of PAYMENT_FAILED.
type PaymentFailed struct {
	TransactionID string `json:"transactionId"`
	Reason        string `json:"reason"`
	DeclineCode   string `json:"declineCode,omitempty"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
}

// ItemReleased is the payload of ITEM_RELEASED: the items inventory-service put back.
type ItemReleased struct {
	TransactionID string `json:"transactionId"`
	Reason        string `json:"reason"`
	Items         []Item `json:"items"`
}

var errNoTransaction = errors.New("transactionId is required")

func validateItems(n int, at func(int) (string, int)) error {
	if n == 0 {
		return errors.New("items must not be empty")
	}
	if err := checkItemLimits(n, at); err != nil {
		return err
	}
	for i := range n {
		sku, qty := at(i)
		if sku == "" {
			return fmt.Errorf("items[%d].sku is required", i)
		}
		if qty <= 0 {
			return fmt.Errorf("items[%d].quantity must be positive", i)
		}
	}
	return nil
}

// Validate reports what makes the payload unusable.
func (p OrderCreate) Validate() error {
	switch {
	case p.TransactionID == "":
		return errNoTransaction
	case p.CustomerID == "":
		return errors.New("customerId is required")
	case p.PaymentMethod == "":
		return errors.New("paymentMethod is required")
	}
	return validateItems(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
}

// Validate reports what makes the payload unusable.
func (p ItemReserved) Validate() error {
	switch {
	case p.TransactionID == "":
		return errNoTransaction
	case p.Amount < 0:
		return errors.New("amount must not be negative")
	case p.Currency == "":
		return errors.New("currency is required")
	case p.PaymentMethod == "":
		return errors.New("paymentMethod is required")
	}
	return validateItems(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
}

// Validate reports what makes the payload unusable.
func (p OutOfStock) Validate() error {
	if p.TransactionID == "" {
		return errNoTransaction
	}
	switch p.Reason {
	case ReasonOutOfStock, ReasonUnknownSKU, ReasonMixedCurrency:
	default:
		return fmt.Errorf("reason %q is not %s, %s or %s", p.Reason, ReasonOutOfStock, ReasonUnknownSKU, ReasonMixedCurrency)
	}
	return nil
}

// Validate reports what makes the payload unusable.
func (p PaymentComplete) Validate() error {
	if p.TransactionID == "" {
		return errNoTransaction
	}
	return nil
}

// Validate reports what makes the payload unusable.
func (p PaymentFailed) Validate() error {
	if p.TransactionID == "" {
		return errNoTransaction
	}
	return nil
}

// Validate reports what makes the payload unusable.
func (p ItemReleased) Validate() error {
	if p.TransactionID == "" {
		return errNoTransaction
	}
	return nil
}
