package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// A response written after the deadline never reaches the client, unless the request asked
// for an event stream.
func TestWriteDeadline(t *testing.T) {
	const timeout = 50 * time.Millisecond
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(WriteDeadline(timeout))
	r.GET("/slow", func(c *gin.Context) {
		time.Sleep(4 * timeout) // the handler outlives its deadline
		c.String(http.StatusOK, "late")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	cases := []struct {
		name   string
		accept string
		ok     bool
	}{
		{"plain request is cut off", "application/json", false},
		{"event stream is not", "text/event-stream", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/slow", nil)
			req.Header.Set("Accept", c.accept)
			// A fresh connection each time: a cut-off one is not reused.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			got := err == nil && string(body) == "late"
			if got != c.ok {
				t.Fatalf("answered = %v (body %q, err %v), want %v", got, body, err, c.ok)
			}
		})
	}
}
