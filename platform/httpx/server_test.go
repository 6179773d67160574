package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// TestEngineAnswersEveryErrorInJSON: what no route of the service answers (an unknown path, a
// method a path does not take, a path with a trailing slash, a handler's panic) still answers
// a JSON error body, not gin's plain text, HTML redirect or empty 500.
func TestEngineAnswersEveryErrorInJSON(t *testing.T) {
	engine := httpx.NewEngine(nil)
	engine.GET("/orders", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
	engine.GET("/boom", func(c *gin.Context) { panic("a bug") })
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nowhere", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodDelete, "/orders", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{http.MethodGet, "/orders/", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, "/boom", http.StatusInternalServerError, "INTERNAL"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			engine.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			var body httpx.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
				t.Errorf("%s %s = %d %q (%v), want %d with a JSON error %s", tc.method, tc.path, rec.Code, rec.Body, err, tc.status, tc.code)
			}
		})
	}
}

// TestEngineAddsNothingToAStreamThatPanics: a handler that panics after it began its answer (an
// event stream) gets no JSON error appended to what it sent.
func TestEngineAddsNothingToAStreamThatPanics(t *testing.T) {
	engine := httpx.NewEngine(nil)
	engine.GET("/stream", func(c *gin.Context) {
		c.Writer.WriteHeader(http.StatusOK)
		c.Writer.WriteString("data: 1\n\n")
		panic("a bug")
	})
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stream", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "data: 1\n\n" {
		t.Errorf("GET /stream = %d %q, want 200 with only what the handler sent", rec.Code, rec.Body)
	}
}
