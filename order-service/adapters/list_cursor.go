package adapters

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/edmshop/edm-shop/order-service/app"
)

// listCursor is where a page of ListOrders stopped: the last order it returned. Both stores
// hand it out as base64url JSON, so a client treats it as opaque.
type listCursor struct {
	CreatedAt     time.Time `json:"c"`
	TransactionID string    `json:"t"`
}

func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeListCursor reads a cursor; "" is the first page (the zero cursor).
func decodeListCursor(s string) (listCursor, error) {
	var c listCursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.TransactionID == "" || c.CreatedAt.IsZero() {
		return listCursor{}, app.ErrInvalidCursor
	}
	return c, nil
}
