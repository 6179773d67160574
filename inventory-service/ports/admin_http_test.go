package ports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
)

const token = "op-token"

// adminEngine serves the catalogue and the operator API over a fresh SQLite store.
func adminEngine(t *testing.T, token string) http.Handler {
	t.Helper()
	repo, err := adapters.NewSQLiteRepository(context.Background(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	a := app.New(repo, config.DefaultTopics, func() {})
	r := httpx.NewEngine(nil)
	ports.RegisterHTTP(r, a)
	ports.RegisterAdminHTTP(r, a, token)
	return r
}

type call struct {
	method, path, auth, body string
}

func do(t *testing.T, h http.Handler, c call) (int, string) {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e httpx.ErrorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("body %s is not a JSON error with a message", body)
	}
	return e.Error.Code
}

const flashTee = `{"name":"Flash Tee","price":1999,"currency":"USD","available":1000}`

func TestAdminAuth(t *testing.T) {
	cases := []struct {
		name   string
		token  string
		call   call
		status int
		code   string
	}{
		{"put without token", token, call{"PUT", "/products/FLASH", "", flashTee}, 401, httpx.CodeUnauthorized},
		{"put with wrong token", token, call{"PUT", "/products/FLASH", "Bearer nope", flashTee}, 401, httpx.CodeUnauthorized},
		{"restock without token", token, call{"POST", "/products/SKU-1001/restock", "", `{"quantity":5}`}, 401, httpx.CodeUnauthorized},
		{"restock with wrong token", token, call{"POST", "/products/SKU-1001/restock", "Bearer " + token + "x", `{"quantity":5}`}, 401, httpx.CodeUnauthorized},
		{"put when disabled", "", call{"PUT", "/products/FLASH", "Bearer " + token, flashTee}, 403, httpx.CodeAdminDisabled},
		{"restock when disabled", "", call{"POST", "/products/SKU-1001/restock", "", `{"quantity":5}`}, 403, httpx.CodeAdminDisabled},
		{"put with the token", token, call{"PUT", "/products/FLASH", "Bearer " + token, flashTee}, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := adminEngine(t, tc.token)
			status, body := do(t, h, tc.call)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.code != "" {
				if code := errorCode(t, body); code != tc.code {
					t.Errorf("code %s, want %s", code, tc.code)
				}
				// Refused: the catalogue is as seeded.
				if status, body := do(t, h, call{"GET", "/products/FLASH", "", ""}); status != 404 {
					t.Errorf("after a refused call GET /products/FLASH = %d %s", status, body)
				}
				if _, body := do(t, h, call{"GET", "/products/SKU-1001", "", ""}); !strings.Contains(body, `"available":120`) {
					t.Errorf("after a refused call SKU-1001 = %s, want available 120", body)
				}
			}
		})
	}
}

func TestAdminValidation(t *testing.T) {
	auth := "Bearer " + token
	cases := []struct {
		name string
		call call
		code string
	}{
		{"malformed json", call{"PUT", "/products/X", auth, `{"name":`}, "MALFORMED_JSON"},
		{"price as a string", call{"PUT", "/products/X", auth, `{"name":"a","price":"1","currency":"EUR","available":1}`}, "INVALID_FIELD"},
		{"fractional stock", call{"PUT", "/products/X", auth, `{"name":"a","price":1,"currency":"EUR","available":1.5}`}, "INVALID_FIELD"},
		{"missing name", call{"PUT", "/products/X", auth, `{"price":1,"currency":"EUR","available":1}`}, ports.CodeMissingField},
		{"missing available", call{"PUT", "/products/X", auth, `{"name":"a","price":1,"currency":"EUR"}`}, ports.CodeMissingField},
		{"empty name", call{"PUT", "/products/X", auth, `{"name":" ","price":1,"currency":"EUR","available":1}`}, "INVALID_NAME"},
		{"negative price", call{"PUT", "/products/X", auth, `{"name":"a","price":-1,"currency":"EUR","available":1}`}, "INVALID_PRICE"},
		{"price over the limit", call{"PUT", "/products/X", auth, `{"name":"a","price":4611686018427387904,"currency":"EUR","available":1}`}, "INVALID_PRICE"},
		{"bad currency", call{"PUT", "/products/X", auth, `{"name":"a","price":1,"currency":"euro","available":1}`}, "INVALID_CURRENCY"},
		{"negative stock", call{"PUT", "/products/X", auth, `{"name":"a","price":1,"currency":"EUR","available":-1}`}, "INVALID_AVAILABLE"},
		{"long sku", call{"PUT", "/products/" + strings.Repeat("S", 65), auth, flashTee}, "INVALID_SKU"},
		{"restock zero", call{"POST", "/products/SKU-1001/restock", auth, `{"quantity":0}`}, "INVALID_QUANTITY"},
		{"restock negative", call{"POST", "/products/SKU-1001/restock", auth, `{"quantity":-5}`}, "INVALID_QUANTITY"},
		{"restock fraction", call{"POST", "/products/SKU-1001/restock", auth, `{"quantity":2.5}`}, "INVALID_FIELD"},
		{"restock string", call{"POST", "/products/SKU-1001/restock", auth, `{"quantity":"5"}`}, "INVALID_FIELD"},
		{"restock missing", call{"POST", "/products/SKU-1001/restock", auth, `{}`}, ports.CodeMissingField},
		{"restock past the limit", call{"POST", "/products/SKU-1001/restock", auth, `{"quantity":1000000000}`}, "STOCK_TOO_LARGE"},
	}
	h := adminEngine(t, token)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, h, tc.call)
			if status != 400 {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			if code := errorCode(t, body); code != tc.code {
				t.Errorf("code %s, want %s", code, tc.code)
			}
		})
	}
	if _, body := do(t, h, call{"GET", "/products/SKU-1001", "", ""}); !strings.Contains(body, `"available":120`) {
		t.Errorf("after refused calls SKU-1001 = %s, want available 120", body)
	}
	if status, _ := do(t, h, call{"GET", "/products/X", "", ""}); status != 404 {
		t.Errorf("a refused PUT created product X")
	}
}

func TestAdminCreateReplaceRestock(t *testing.T) {
	h := adminEngine(t, token)
	auth := "Bearer " + token
	steps := []struct {
		call   call
		status int
		want   string // the answer, which GET /products/FLASH must then show too
	}{
		{call{"PUT", "/products/FLASH", auth, flashTee}, 201,
			`{"sku":"FLASH","name":"Flash Tee","price":1999,"currency":"USD","available":1000,"reserved":0}`},
		{call{"POST", "/products/FLASH/restock", auth, `{"quantity":500}`}, 200,
			`{"sku":"FLASH","name":"Flash Tee","price":1999,"currency":"USD","available":1500,"reserved":0}`},
		{call{"PUT", "/products/FLASH", auth, `{"name":"Flash Tee v2","price":2499,"currency":"EUR","available":7}`}, 200,
			`{"sku":"FLASH","name":"Flash Tee v2","price":2499,"currency":"EUR","available":7,"reserved":0}`},
		{call{"PUT", "/products/FLASH", auth, `{"name":"Flash Tee v2","price":2499,"currency":"EUR","available":0}`}, 200,
			`{"sku":"FLASH","name":"Flash Tee v2","price":2499,"currency":"EUR","available":0,"reserved":0}`},
	}
	for i, s := range steps {
		status, body := do(t, h, s.call)
		if status != s.status || body != s.want {
			t.Fatalf("step %d %s %s: %d %s, want %d %s", i, s.call.method, s.call.path, status, body, s.status, s.want)
		}
		if _, got := do(t, h, call{"GET", "/products/FLASH", "", ""}); got != s.want {
			t.Fatalf("step %d: GET /products/FLASH = %s, want %s", i, got, s.want)
		}
	}
	status, body := do(t, h, call{"POST", "/products/NOPE/restock", auth, `{"quantity":5}`})
	if status != 404 || errorCode(t, body) != "PRODUCT_NOT_FOUND" {
		t.Errorf("restock of an unknown SKU: %d %s, want 404 PRODUCT_NOT_FOUND", status, body)
	}
	if status, _ := do(t, h, call{"GET", "/products/NOPE", "", ""}); status != 404 {
		t.Error("restocking an unknown SKU created it")
	}
}

// TestOnlyTheCatalogueAllowsAnyOrigin: the storefront reads the catalogue from the shopper's
// browser, so its GETs allow any origin; the operator's answers and unknown paths do not.
func TestOnlyTheCatalogueAllowsAnyOrigin(t *testing.T) {
	h := adminEngine(t, token)
	for _, tc := range []struct {
		c    call
		want string
	}{
		{call{"GET", "/products", "", ""}, "*"},
		{call{"GET", "/products/SKU-1001", "", ""}, "*"},
		{call{"PUT", "/products/X", "Bearer " + token, flashTee}, ""},
		{call{"POST", "/products/X/restock", "Bearer " + token, `{"quantity":1}`}, ""},
		{call{"GET", "/nowhere", "", ""}, ""},
	} {
		req := httptest.NewRequest(tc.c.method, tc.c.path, strings.NewReader(tc.c.body))
		if tc.c.auth != "" {
			req.Header.Set("Authorization", tc.c.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %q", tc.c.method, tc.c.path, got, tc.want)
		}
	}
}
