package httpx_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// TestSSECutsOffAClientThatStopsReading: a client that takes no event fills the connection's
// buffers, and the next Send fails after the write timeout instead of blocking the stream (and
// whatever feeds it) for good.
func TestSSECutsOffAClientThatStopsReading(t *testing.T) {
	httpx.SetSSEWriteTimeout(t, 200*time.Millisecond)
	ended := make(chan error, 1)
	engine := gin.New()
	engine.GET("/stream", func(c *gin.Context) {
		sse := httpx.NewSSE(c)
		big := strings.Repeat("x", 64<<10)
		for {
			if err := sse.Send("record", "", big); err != nil {
				ended <- err
				return
			}
		}
	})
	srv := httptest.NewServer(engine)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Asks for the stream and never reads a byte of it.
	if _, err := conn.Write([]byte("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("Send stopped without an error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Send still blocked on a client that reads nothing")
	}
}
