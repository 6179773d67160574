package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestAccessLogCarriesTheRequestID(t *testing.T) {
	cases := []struct {
		method, path string
		level        string // "" when not logged
	}{
		{http.MethodPost, "/orders", "INFO"},
		{http.MethodGet, "/orders/1", "DEBUG"},
		{http.MethodGet, "/nope", "INFO"},
		{http.MethodGet, "/healthz", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(telemetry.ContextHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
			r := httpx.NewEngine(nil, telemetry.RequestID(), telemetry.AccessLog(log))
			r.POST("/orders", func(c *gin.Context) { c.Status(http.StatusAccepted) })
			r.GET("/orders/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
			req := httptest.NewRequest(c.method, c.path, nil)
			req.Header.Set(telemetry.RequestIDHeader, "req-7")
			r.ServeHTTP(httptest.NewRecorder(), req)
			if c.level == "" {
				if buf.Len() != 0 {
					t.Errorf("logged %s", buf.String())
				}
				return
			}
			var line map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if line["level"] != c.level || line["request_id"] != "req-7" || line["method"] != c.method || !strings.HasPrefix(c.path, "/") {
				t.Errorf("logged %v", line)
			}
		})
	}
}
