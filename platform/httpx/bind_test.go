package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

func TestBindJSON(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	cases := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"valid", `{"name":"a","count":2}`, 200, ""},
		{"unknown fields are ignored", `{"name":"a","extra":true}`, 200, ""},
		{"trailing whitespace", "{\"name\":\"a\"}\n  ", 200, ""},
		{"empty", ``, 400, "MALFORMED_JSON"},
		{"truncated", `{"name":`, 400, "MALFORMED_JSON"},
		{"trailing bracket", `{"name":"a"}]`, 400, "MALFORMED_JSON"},
		{"trailing brace", `{"name":"a"}}`, 400, "MALFORMED_JSON"},
		{"two values", `{"name":"a"} {"name":"b"}`, 400, "MALFORMED_JSON"},
		{"wrong type", `{"count":"2"}`, 400, "INVALID_FIELD"},
		{"fraction for an int", `{"count":1.5}`, 400, "INVALID_FIELD"},
		{"over the limit", `{"name":"` + strings.Repeat("a", httpx.MaxBodyBytes) + `"}`, 413, "BODY_TOO_LARGE"},
		{"over the limit after the value", `{"name":"a"}` + strings.Repeat(" ", httpx.MaxBodyBytes), 413, "BODY_TOO_LARGE"},
	}
	r := httpx.NewEngine(nil)
	r.POST("/", func(c *gin.Context) {
		var b body
		if httpx.BindJSON(c, &b) {
			c.JSON(200, b)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)))
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
		})
	}
}
