package ports

import (
	"net/http"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// NewHTTPHandler returns payment-service's HTTP API: only GET /healthz and GET /readyz, which
// answers 200 while every check passes. payment-service is driven by events, not by requests.
func NewHTTPHandler(checks map[string]httpx.Check) http.Handler {
	return httpx.NewEngine(checks)
}
