package ports_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edmshop/edm-shop/api"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/httpx"
)

func TestContractsAreServed(t *testing.T) {
	engine := httpx.NewEngine(nil)
	ports.RegisterContracts(engine)
	for path, want := range map[string][]byte{"/openapi.yaml": api.OpenAPI, "/asyncapi.yaml": api.AsyncAPI} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" || len(want) == 0 || !bytes.Equal(got, want) {
				t.Errorf("GET %s = %d %s, %d bytes; want 200 application/yaml with the %d bytes of the document",
					path, rec.Code, rec.Header().Get("Content-Type"), len(got), len(want))
			}
		})
	}
}
