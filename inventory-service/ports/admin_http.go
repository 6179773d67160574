package ports

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// CodeMissingField is the code of a 400 for a request body without a required field.
const CodeMissingField = "MISSING_FIELD"

// productRequest is the body of PUT /products/{sku}; pointers tell a missing field from zero.
type productRequest struct {
	Name      *string `json:"name"`
	Price     *int64  `json:"price"`
	Currency  *string `json:"currency"`
	Available *int    `json:"available"`
}

type restockRequest struct {
	Quantity *int `json:"quantity"`
}

// RegisterAdminHTTP adds the operator API, behind "Authorization: Bearer <token>" (an empty
// token switches it off: 403 ADMIN_DISABLED):
//
//	PUT  /products/{sku}          {"name","price","currency","available"}: 201 created, 200 replaced
//	POST /products/{sku}/restock  {"quantity":N}: 200; 404 unknown SKU
//
// Both answer the product as GET /products/{sku} shows it, and 400 with a JSON error for an
// invalid body.
func RegisterAdminHTTP(r gin.IRouter, a *app.App, token string) {
	admin := r.Group("/products", httpx.RequireBearer(token))
	admin.PUT("/:sku", func(c *gin.Context) {
		var req productRequest
		if !httpx.BindJSON(c, &req) {
			return
		}
		for _, f := range []struct {
			name    string
			present bool
		}{{"name", req.Name != nil}, {"price", req.Price != nil}, {"currency", req.Currency != nil}, {"available", req.Available != nil}} {
			if !f.present {
				httpx.Error(c, http.StatusBadRequest, CodeMissingField, "field "+f.name+" is required (name, price, currency, available)")
				return
			}
		}
		p, created, err := a.SetProduct(c.Request.Context(), domain.Product{
			SKU: c.Param("sku"), Name: *req.Name, Price: *req.Price, Currency: *req.Currency, Available: *req.Available,
		})
		if answerAdminError(c, err) {
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			c.Header("Location", "/products/"+p.SKU)
		}
		c.JSON(status, productJSON(p))
	})
	admin.POST("/:sku/restock", func(c *gin.Context) {
		var req restockRequest
		if !httpx.BindJSON(c, &req) {
			return
		}
		if req.Quantity == nil {
			httpx.Error(c, http.StatusBadRequest, CodeMissingField, "field quantity is required")
			return
		}
		p, err := a.Restock(c.Request.Context(), c.Param("sku"), *req.Quantity)
		if answerAdminError(c, err) {
			return
		}
		c.JSON(http.StatusOK, productJSON(p))
	})
}

// answerAdminError answers err, if any, and reports whether it did.
func answerAdminError(c *gin.Context, err error) bool {
	var invalid *domain.ValidationError
	switch {
	case err == nil:
		return false
	case errors.As(err, &invalid):
		httpx.Error(c, http.StatusBadRequest, invalid.Code, invalid.Message)
	case errors.Is(err, domain.ErrProductNotFound):
		httpx.Error(c, http.StatusNotFound, "PRODUCT_NOT_FOUND", "no product with sku "+c.Param("sku"))
	default:
		httpx.Error(c, http.StatusInternalServerError, "STORE_UNAVAILABLE", "could not update the product")
	}
	return true
}
