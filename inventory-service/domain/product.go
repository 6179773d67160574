package domain

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the operator API. MaxStock keeps available stock within the stores' INT column
// however often a SKU is restocked. MaxPrice keeps an order's amount far inside int64: an order
// holds at most event.MaxItems x event.MaxQuantity (100,000) units, so at most 1e17 minor
// units, where an unbounded price could wrap the amount round to zero or below and an order
// would complete uncharged.
const (
	MaxSKULength  = 64
	MaxNameLength = 255
	MaxStock      = 1_000_000_000
	MaxPrice      = 1_000_000_000_000
)

// Validation error codes of the operator API.
const (
	CodeInvalidSKU      = "INVALID_SKU"
	CodeInvalidName     = "INVALID_NAME"
	CodeInvalidPrice    = "INVALID_PRICE"
	CodeInvalidCurrency = "INVALID_CURRENCY"
	CodeInvalidStock    = "INVALID_AVAILABLE"
	CodeInvalidQuantity = "INVALID_QUANTITY"
	CodeStockTooLarge   = "STOCK_TOO_LARGE"
)

// ValidationError says why an operator's request is not acceptable. Code is meant for programs.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, format string, args ...any) error {
	return &ValidationError{Code: code, Message: fmt.Sprintf(format, args...)}
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidateSKU reports a *ValidationError for a SKU the stores cannot key on.
func ValidateSKU(sku string) error {
	// Spaces around it are refused: MySQL's collation ignores trailing ones (PAD SPACE) and
	// SQLite does not, so "SKU-1 " would replace SKU-1 on one store and add a product on the other.
	// Nor control characters: a SKU reaches customers' e-mails.
	if strings.TrimSpace(sku) != sku || sku == "" || len(sku) > MaxSKULength || !utf8.ValidString(sku) || strings.ContainsFunc(sku, unicode.IsControl) {
		return invalid(CodeInvalidSKU, "sku must be 1 to %d bytes of text without spaces around it or control characters", MaxSKULength)
	}
	return nil
}

// Validate reports a *ValidationError for a product an operator may not set: an empty or
// over-long name, a price outside 0..MaxPrice, a currency that is not three capital letters (ISO 4217),
// or available stock outside 0..MaxStock. Reserved is ignored: only orders change it.
func (p Product) Validate() error {
	if err := ValidateSKU(p.SKU); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > MaxNameLength || !utf8.ValidString(p.Name):
		return invalid(CodeInvalidName, "name must be 1 to %d characters", MaxNameLength)
	case p.Price < 0 || p.Price > MaxPrice:
		return invalid(CodeInvalidPrice, "price must be an integer from 0 to %d in minor units, not %d", int64(MaxPrice), p.Price)
	case !currencyCode.MatchString(p.Currency):
		return invalid(CodeInvalidCurrency, "currency must be an ISO 4217 code such as EUR, not %q", p.Currency)
	case p.Available < 0 || p.Available > MaxStock:
		return invalid(CodeInvalidStock, "available must be an integer from 0 to %d, not %d", MaxStock, p.Available)
	}
	return nil
}

// ValidateRestock reports a *ValidationError for a restock quantity that is not a positive
// integer up to MaxStock.
func ValidateRestock(quantity int) error {
	if quantity <= 0 || quantity > MaxStock {
		return invalid(CodeInvalidQuantity, "quantity must be an integer from 1 to %d, not %d", MaxStock, quantity)
	}
	return nil
}
