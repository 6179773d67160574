package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

func TestSSESend(t *testing.T) {
	for _, tc := range []struct {
		name, event, id string
		data            any
		want            string
	}{
		{"data only", "", "", map[string]int{"n": 1}, "data: {\"n\":1}\n\n"},
		{"named with id", "entry", "e-1", "x", "id: e-1\nevent: entry\ndata: \"x\"\n\n"},
		{"newlines cannot add fields", "a\nb", "c\r\nd", "line\nbreak", "id: c  d\nevent: a b\ndata: \"line\\nbreak\"\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			sse := httpx.NewSSE(c)
			if sse.Started() {
				t.Fatal("started before the first Send")
			}
			if err := sse.Send(tc.event, tc.id, tc.data); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/event-stream" || rec.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("response = %d %v", rec.Code, rec.Header())
			}
			if !rec.Flushed {
				t.Error("event was not flushed")
			}
			if rec.Body.String() != tc.want {
				t.Errorf("body = %q, want %q", rec.Body, tc.want)
			}
		})
	}
}

func TestSSEUnencodableDataSendsNothing(t *testing.T) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	sse := httpx.NewSSE(c)
	if err := sse.Send("x", "", func() {}); err == nil || sse.Started() {
		t.Errorf("Send(func) = %v, started %v; want an error and no stream", err, sse.Started())
	}
}
