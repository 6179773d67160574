package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Bounds of the back query parameter of GET /topics/stream.
const (
	DefaultTopicBack = 100
	MaxTopicBack     = 1000
)

// CodeInvalidBack is the error code of a bad back parameter.
const CodeInvalidBack = "INVALID_BACK"

// CodeTooManyViewers is the error code of a stream refused because MaxTopicViewers are open.
const CodeTooManyViewers = "TOO_MANY_VIEWERS"

// MaxTopicViewers bounds the topic streams open at once. Each reads with a Kafka consumer of
// its own (threads, broker connections, prefetched records) inside order-service, which takes
// the orders, and asks for no credentials; a handful of viewers is what the storefront needs.
const MaxTopicViewers = 16

// TailFunc reads the saga's topics from back records before the end of each partition until ctx
// ends, as kafka.Tail does.
type TailFunc func(ctx context.Context, back int64, fn func(kafka.TailRecord) error) error

// RegisterTopicViewer adds GET /topics/stream: a live tail of the saga's topics as Server-Sent
// Events, for the storefront's topic viewer.
// Past MaxTopicViewers open streams it answers 503 TOO_MANY_VIEWERS.
func RegisterTopicViewer(r gin.IRouter, topics []string, tail TailFunc, log *slog.Logger) {
	viewers := httpx.NewSlots(MaxTopicViewers)
	r.GET("/topics/stream", func(c *gin.Context) {
		release, ok := viewers.Take(c, CodeTooManyViewers, "too many topic streams are open; try again later")
		if !ok {
			return
		}
		defer release()
		streamTopics(c, topics, tail, log)
	})
}

// topicRecord is a record as the viewer shows it: Value is the JSON itself when the record
// holds JSON, else a string.
type topicRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       string            `json:"key"`
	Headers   map[string]string `json:"headers"`
	Value     json.RawMessage   `json:"value"`
	Timestamp time.Time         `json:"timestamp"`
}

// streamTopics answers GET /topics/stream?transactionId=..&back=..: first a "ready" event
// naming the topics, then a "record" event per record (of that transaction only, when
// transactionId is set), starting back records before the end of each partition. The stream
// runs until the client goes away.
func streamTopics(c *gin.Context, topics []string, tail TailFunc, log *slog.Logger) {
	back := int64(DefaultTopicBack)
	if s, ok := c.GetQuery("back"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > MaxTopicBack {
			httpx.Error(c, http.StatusBadRequest, CodeInvalidBack, "back must be a whole number between 0 and "+strconv.Itoa(MaxTopicBack))
			return
		}
		back = n
	}
	txID := c.Query("transactionId")
	ctx, cancel := httpx.StreamContext(c)
	defer cancel()
	sse := httpx.NewSSE(c)
	if err := sse.Send("ready", "", gin.H{"topics": topics, "transactionId": txID, "back": back}); err != nil {
		return
	}
	err := tail(ctx, back, func(r kafka.TailRecord) error {
		if txID != "" && r.Key != txID && !bytes.Contains(r.Value, []byte(txID)) {
			return nil
		}
		value := json.RawMessage(r.Value)
		if !json.Valid(r.Value) {
			value, _ = json.Marshal(string(r.Value))
		}
		return sse.Send("record", r.Topic+"/"+strconv.Itoa(int(r.Partition))+"/"+strconv.FormatInt(r.Offset, 10), topicRecord{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Headers: r.Headers, Value: value, Timestamp: r.Time,
		})
	})
	if err != nil && ctx.Err() == nil {
		log.WarnContext(c.Request.Context(), "topic viewer", "error", err)
		_ = sse.Send("failed", "", gin.H{"message": err.Error()})
	}
}
