package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Error codes of RequireBearer.
const (
	CodeUnauthorized  = "UNAUTHORIZED"
	CodeAdminDisabled = "ADMIN_DISABLED"
)

// RequireBearer returns middleware that lets a request through only with the header
// "Authorization: Bearer <token>". A missing or wrong token answers 401; an empty token means
// the routes are switched off, and every request answers 403 ADMIN_DISABLED.
//
// The tokens are compared as SHA-256 digests in constant time, so neither the content nor the
// length of the expected token leaks through response timing.
func RequireBearer(token string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	return func(c *gin.Context) {
		if token == "" {
			Error(c, http.StatusForbidden, CodeAdminDisabled, "the operator API is disabled: set ADMIN_TOKEN to enable it")
			return
		}
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="operator"`)
			Error(c, http.StatusUnauthorized, CodeUnauthorized, "a valid operator token is required: Authorization: Bearer <ADMIN_TOKEN>")
			return
		}
		c.Next()
	}
}
