package telemetry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestRequestID(t *testing.T) {
	cases := []struct {
		name     string
		sent     string
		keptSent bool
	}{
		{"generated when absent", "", false},
		{"the client's id is kept", "req-42", true},
		{"an overlong id is replaced", strings.Repeat("a", 200), false},
		{"an id with spaces is replaced", "two words", false},
	}
	r := httpx.NewEngine(nil, telemetry.RequestID())
	var seen string
	r.GET("/", func(c *gin.Context) { seen = telemetry.RequestIDFrom(c.Request.Context()) })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if c.sent != "" {
				req.Header.Set(telemetry.RequestIDHeader, c.sent)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			echoed := rec.Header().Get(telemetry.RequestIDHeader)
			if echoed != seen {
				t.Errorf("echoed %q, the handler's context had %q", echoed, seen)
			}
			if c.keptSent {
				if echoed != c.sent {
					t.Errorf("echoed %q, want the client's %q", echoed, c.sent)
				}
			} else if _, err := uuid.Parse(echoed); err != nil {
				t.Errorf("echoed %q, want a generated UUID", echoed)
			}
		})
	}
}
