package ports

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/api"
)

// RegisterContracts adds GET /openapi.yaml and GET /asyncapi.yaml: the platform's HTTP and event
// contracts (module api), so a client or a learner can fetch them from a running platform.
func RegisterContracts(r gin.IRouter) {
	for path, doc := range map[string][]byte{"/openapi.yaml": api.OpenAPI, "/asyncapi.yaml": api.AsyncAPI} {
		r.GET(path, func(c *gin.Context) {
			// Any origin: API tools in a browser (Swagger UI, AsyncAPI Studio) read it from here.
			c.Header("Access-Control-Allow-Origin", "*")
			c.Data(http.StatusOK, "application/yaml", doc)
		})
	}
}
