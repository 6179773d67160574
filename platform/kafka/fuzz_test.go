package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/edmshop/edm-shop/platform/event"
)

// fuzzHeaders turns "name=value" lines into Kafka headers (a line without "=" is a name with an
// empty value), so one fuzzed string covers missing, repeated and odd headers.
func fuzzHeaders(s string) []ckafka.Header {
	var hs []ckafka.Header
	for line := range strings.SplitSeq(s, "\n") {
		name, value, _ := strings.Cut(line, "=")
		hs = append(hs, ckafka.Header{Key: name, Value: []byte(value)})
	}
	return hs
}

// FuzzFromKafka feeds arbitrary keys, values and headers to the CloudEvents binary-mode parsing
// every consumer runs first. No input may panic; a rejection wraps event.ErrInvalid (so it is
// dead-lettered, not retried for ever); an accepted message has every required attribute, a key
// and a JSON value, and survives toKafka and fromKafka again unchanged. Seeds:
// testdata/fuzz/FuzzFromKafka and below.
func FuzzFromKafka(f *testing.F) {
	valid := "ce_specversion=1.0\nce_id=0b5a\nce_type=ORDER_CREATE\nce_source=/order-service\nce_time=2026-01-02T03:04:05.123456789Z\ncontent-type=application/json"
	for _, seed := range []struct {
		key, value, headers string
	}{
		{"tx-1", `{"transactionId":"tx-1"}`, valid},
		{"tx-1", `{"transactionId":"tx-1"}`, strings.Replace(valid, "\nce_time=2026-01-02T03:04:05.123456789Z", "", 1)},
		{"tx-1", `{"transactionId":"tx-1"}`, strings.Replace(valid, "Z", "+02:00", 1)},
		{"tx-1", `{"transactionId":"tx-1"}`, valid + "\nce_id=second"},
		{"tx-1", `{"transactionId":"tx-1"}`, strings.Replace(valid, "1.0", "0.3", 1)},
		{"tx-1", `{"transactionId":"tx-1"}`, strings.Replace(valid, "application/json", "text/plain", 1)},
		{"tx-1", `{"transactionId":"tx-1"}`, strings.Replace(valid, "2026-01-02", "yesterday", 1)},
		{"", `{}`, valid},
		{"tx-1", `{"transactionId":`, valid},
		{"tx-1", ``, valid},
		{"tx-1", `null`, valid + "\ndlt_reason=boom\nedm_replayed_from=inventory.dlt/3/7"},
		{"tx-1", "\"\xff\"", valid},
		{"k", `1`, ""},
	} {
		f.Add([]byte(seed.key), []byte(seed.value), seed.headers)
	}
	f.Fuzz(func(t *testing.T, key, value []byte, headers string) {
		topic := "t"
		m := &ckafka.Message{TopicPartition: ckafka.TopicPartition{Topic: &topic}, Key: key, Value: value, Headers: fuzzHeaders(headers)}
		e, err := fromKafka(m)
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("rejection %v does not wrap event.ErrInvalid", err)
			}
			return
		}
		if e.ID == "" || e.Type == "" || e.Source == "" || e.Key == "" || e.Key != string(key) || !json.Valid(e.Data) || !bytes.Equal(e.Data, value) {
			t.Fatalf("accepted %+v from key %q value %q headers %q", e, key, value, headers)
		}
		again, err := fromKafka(toKafka(Message{Topic: topic, Event: e}))
		if err != nil {
			t.Fatalf("re-encoded event rejected: %v", err)
		}
		if !again.Time.Equal(e.Time) {
			t.Fatalf("time %v became %v", e.Time, again.Time)
		}
		again.Time = e.Time
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip changed the event: %+v became %+v", e, again)
		}
	})
}
