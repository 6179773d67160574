package ports

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// RegisterHTTP adds GET /notifications/:transactionId: what was recorded of the order's e-mail
// (state SENDING, SENT or UNDELIVERABLE, attempts, Message-ID). 404 NOTIFICATION_NOT_FOUND
// before its status event was handled.
func RegisterHTTP(r gin.IRouter, a *app.App, log *slog.Logger) {
	r.GET("/notifications/:transactionId", func(c *gin.Context) {
		n, err := a.Get(c.Request.Context(), c.Param("transactionId"))
		switch {
		case errors.Is(err, app.ErrNotFound):
			httpx.Error(c, http.StatusNotFound, "NOTIFICATION_NOT_FOUND", "no e-mail recorded for this order")
		case err != nil:
			log.ErrorContext(c.Request.Context(), "read notification", "error", err)
			httpx.Error(c, http.StatusInternalServerError, "INTERNAL", "could not read the notification")
		default:
			c.JSON(http.StatusOK, n)
		}
	})
}
