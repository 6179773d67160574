// Package ports connects the use cases to the outside: HTTP routes and Kafka event handlers.
package ports

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// ProductJSON is a product as GET /products answers it. Price is in minor units of Currency;
// Reserved is what active reservations hold.
type ProductJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	Currency  string `json:"currency"`
	Available int    `json:"available"`
	Reserved  int    `json:"reserved"`
}

func productJSON(p domain.Product) ProductJSON {
	return ProductJSON{SKU: p.SKU, Name: p.Name, Price: p.Price, Currency: p.Currency, Available: p.Available, Reserved: p.Reserved}
}

// RegisterHTTP adds GET /products (sorted by SKU) and GET /products/{sku} to r. The catalogue
// is public and read-only, so any origin may read it: the storefront page order-service serves
// lists it from the shopper's browser.
func RegisterHTTP(r gin.IRoutes, a *app.App) {
	// On these routes only: r.Use on an engine would add it to every answer, the operator's too.
	anyOrigin := func(c *gin.Context) { c.Header("Access-Control-Allow-Origin", "*") }
	r.GET("/products", anyOrigin, func(c *gin.Context) {
		products, err := a.Products(c.Request.Context())
		if err != nil {
			httpx.Error(c, http.StatusInternalServerError, "STORE_UNAVAILABLE", "could not read the catalogue")
			return
		}
		out := make([]ProductJSON, len(products))
		for i, p := range products {
			out[i] = productJSON(p)
		}
		c.JSON(http.StatusOK, out)
	})
	r.GET("/products/:sku", anyOrigin, func(c *gin.Context) {
		sku := c.Param("sku")
		p, err := a.Product(c.Request.Context(), sku)
		switch {
		case errors.Is(err, domain.ErrProductNotFound):
			httpx.Error(c, http.StatusNotFound, "PRODUCT_NOT_FOUND", "no product with sku "+sku)
		case err != nil:
			httpx.Error(c, http.StatusInternalServerError, "STORE_UNAVAILABLE", "could not read the product")
		default:
			c.JSON(http.StatusOK, productJSON(p))
		}
	})
}
