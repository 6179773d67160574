package ports_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
)

func TestListOrdersRejectsBadRequests(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		query, code string
	}{
		{"", domain.CodeInvalidCustomerID},
		{"customerId=", domain.CodeInvalidCustomerID},
		{"customerId=%20", domain.CodeInvalidCustomerID},
		{"limit=5", domain.CodeInvalidCustomerID},
		{"customerId=alice&limit=0", app.CodeInvalidLimit},
		{"customerId=alice&limit=-1", app.CodeInvalidLimit},
		{"customerId=alice&limit=101", app.CodeInvalidLimit},
		{"customerId=alice&limit=ten", app.CodeInvalidLimit},
		{"customerId=alice&cursor=garbage", app.CodeInvalidCursor},
	} {
		t.Run(tc.query, func(t *testing.T) {
			assertError(t, f.do(t, http.MethodGet, "/orders?"+tc.query, "", nil), http.StatusBadRequest, tc.code)
		})
	}
}

func TestListOrders(t *testing.T) {
	f := newFixture(t)
	var ids []string // newest first
	for range 3 {
		ids = append([]string{placeOrder(t, f, validBody, nil)}, ids...)
	}
	placeOrder(t, f, order(`"bob"`, `[{"sku":"SKU-1001","quantity":1}]`, `"pm_card_visa"`), nil)

	var got []string
	query := url.Values{"customerId": {"alice"}, "limit": {"2"}}
	for page := 0; page < 3; page++ {
		rec := f.do(t, http.MethodGet, "/orders?"+query.Encode(), "", nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("GET /orders = %d %s", rec.Code, rec.Body)
		}
		var body struct {
			Orders []map[string]any `json:"orders"`
			Next   *string          `json:"next"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		for _, o := range body.Orders {
			if o["customerId"] != "alice" || o["status"] != "PENDING" || o["history"] != nil || !isRFC3339(o["createdAt"].(string)) {
				t.Errorf("listed order = %v", o)
			}
			got = append(got, o["transactionId"].(string))
		}
		if body.Next == nil {
			break
		}
		query.Set("cursor", *body.Next)
	}
	if len(got) != 3 || got[0] != ids[0] || got[1] != ids[1] || got[2] != ids[2] {
		t.Errorf("listed %v, want newest first %v", got, ids)
	}
	rec := f.do(t, http.MethodGet, "/orders?customerId=nobody", "", nil)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"orders":[]}` {
		t.Errorf("GET /orders?customerId=nobody = %d %s, want 200 {\"orders\":[]}", rec.Code, rec.Body)
	}
}
