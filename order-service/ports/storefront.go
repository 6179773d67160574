package ports

import (
	_ "embed"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed storefront.html
var storefrontHTML string

var storefront = template.Must(template.New("storefront").Parse(storefrontHTML))

// RegisterStorefront adds GET /, a one-page shop: it lists the catalogue from inventory-service
// at inventoryURL (as the shopper's browser reaches it), places orders through POST /orders and
// follows each one by its transactionId. It is a client of the public API and nothing more.
func RegisterStorefront(r gin.IRouter, inventoryURL string) {
	r.GET("/", func(c *gin.Context) {
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		_ = storefront.Execute(c.Writer, struct{ InventoryURL string }{inventoryURL})
	})
}
