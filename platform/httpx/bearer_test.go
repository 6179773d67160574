package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

func TestRequireBearer(t *testing.T) {
	cases := []struct {
		name   string
		token  string // the configured token
		header string // the Authorization header sent; "" sends none
		status int
		code   string
	}{
		{"right token", "s3cret", "Bearer s3cret", 200, ""},
		{"no header", "s3cret", "", 401, httpx.CodeUnauthorized},
		{"wrong token", "s3cret", "Bearer nope", 401, httpx.CodeUnauthorized},
		{"prefix of the token", "s3cret", "Bearer s3cre", 401, httpx.CodeUnauthorized},
		{"token longer", "s3cret", "Bearer s3crets", 401, httpx.CodeUnauthorized},
		{"other scheme", "s3cret", "Basic s3cret", 401, httpx.CodeUnauthorized},
		{"empty bearer", "s3cret", "Bearer ", 401, httpx.CodeUnauthorized},
		{"disabled, no header", "", "", 403, httpx.CodeAdminDisabled},
		{"disabled, empty bearer", "", "Bearer ", 403, httpx.CodeAdminDisabled},
		{"disabled, some token", "", "Bearer s3cret", 403, httpx.CodeAdminDisabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httpx.NewEngine(nil)
			r.PUT("/admin", httpx.RequireBearer(tc.token), func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
			req := httptest.NewRequest(http.MethodPut, "/admin", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.code == "" {
				return
			}
			var e httpx.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("body = %s, want error code %s with a message", rec.Body, tc.code)
			}
			if tc.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without a WWW-Authenticate header")
			}
		})
	}
}
