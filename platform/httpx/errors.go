// Package httpx holds the HTTP conventions every service shares: JSON error bodies, request-size
// limits, strict JSON binding, health endpoints and graceful serving.
package httpx

import (
	"github.com/gin-gonic/gin"
)

// ErrorBody is the JSON body of every 4xx and 5xx answer: {"error":{"code":..,"message":..}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: Code for programs, Message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error aborts the request with status and a JSON error body.
func Error(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}
