package telemetry_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestHTTPMetricsLabelRoutesByTemplate(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := httpx.NewEngine(nil, telemetry.HTTPMetrics(reg))
	r.GET("/orders/:transactionId", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.POST("/orders", func(c *gin.Context) { httpx.Error(c, http.StatusBadRequest, "BAD", "bad") })
	cases := []struct {
		method, path  string
		route, status string
	}{
		{http.MethodGet, "/orders/0b0f5c0e-1", "/orders/:transactionId", "200"},
		{http.MethodGet, "/orders/another-id", "/orders/:transactionId", "200"},
		{http.MethodPost, "/orders", "/orders", "400"},
		{http.MethodGet, "/no/such/path", telemetry.UnmatchedRoute, "404"},
		{http.MethodDelete, "/orders", telemetry.UnmatchedRoute, "405"},
		{http.MethodGet, "/healthz", "/healthz", "200"},
	}
	for _, c := range cases {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	want := map[[3]string]float64{}
	for _, c := range cases {
		want[[3]string{c.method, c.route, c.status}]++
	}
	for k, n := range want {
		got := sample(t, reg, "http_server_request_duration_seconds", map[string]string{"method": k[0], "route": k[1], "status": k[2]})
		if got != n {
			t.Errorf("%v observed %v times, want %v", k, got, n)
		}
	}
}
