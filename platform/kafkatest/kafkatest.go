// Package kafkatest starts an in-process Kafka-protocol broker (kfake) for tests, and reads
// what landed on a topic.
package kafkatest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Start runs a one-broker kfake cluster on a free loopback port until the test ends. Each topic
// is created with its dead-letter twin, kafka.DefaultPartitions partitions each. It returns the
// bootstrap address.
func Start(t testing.TB, topics ...string) string {
	t.Helper()
	return strings.Join(StartCluster(t, topics...).ListenAddrs(), ",")
}

// StartCluster is Start for tests that also steer the broker (kfake's Control hooks).
func StartCluster(t testing.TB, topics ...string) *kfake.Cluster {
	t.Helper()
	var all []string
	for _, topic := range topics {
		all = append(all, topic, kafka.DeadLetterTopic(topic))
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.SeedTopics(kafka.DefaultPartitions, all...),
		kfake.GroupMinSessionTimeout(100*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Record is a message read back from a topic.
type Record struct {
	Key     string
	Value   []byte
	Headers map[string]string
}

// ReadAll returns every message on topic so far, from the start, in partition order. It reads
// with franz-go, a client independent of the one under test.
func ReadAll(t testing.TB, brokers, topic string) []Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("kgo client: %v", err)
	}
	defer cl.Close()
	ends, err := endOffsets(cl, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := int64(0)
	for _, o := range ends {
		want += o
	}
	var out []Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for int64(len(out)) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d of %d records", topic, len(out), want)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, hd := range r.Headers {
				h[hd.Key] = string(hd.Value)
			}
			out = append(out, Record{Key: string(r.Key), Value: r.Value, Headers: h})
		})
	}
	return out
}

// Produce writes a raw record to topic, for tests that hand a consumer something odd.
func Produce(t testing.TB, brokers, topic, key string, value []byte, headers map[string]string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatalf("kgo client: %v", err)
	}
	defer cl.Close()
	r := &kgo.Record{Topic: topic, Key: []byte(key), Value: value}
	for k, v := range headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// Headers are the CloudEvents binary-mode headers of e, written out by hand: a test that
// produces with them checks the services against the contract, not against platform/kafka.
func Headers(e event.Event) map[string]string {
	return map[string]string{
		"ce_specversion": "1.0",
		"ce_id":          e.ID,
		"ce_type":        string(e.Type),
		"ce_source":      e.Source,
		"ce_time":        e.Time.UTC().Format(time.RFC3339Nano),
		"content-type":   "application/json",
	}
}

// ProduceEvent writes e to topic as a CloudEvents binary-mode message keyed by e.Key.
func ProduceEvent(t testing.TB, brokers, topic string, e event.Event) {
	t.Helper()
	Produce(t, brokers, topic, e.Key, e.Data, Headers(e))
}
