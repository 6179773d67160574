package kafka_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

func TestTailReadsFromBackAndFollowsWithoutAGroup(t *testing.T) {
	brokers := kafkatest.Start(t, "a", "b")
	for _, v := range []string{"1", "2", "3"} {
		kafkatest.Produce(t, brokers, "a", "tx-1", []byte(v), map[string]string{"ce_type": "T" + v})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan kafka.TailRecord)
	done := make(chan error, 1)
	go func() {
		done <- kafka.Tail(ctx, kafka.TailConfig{Brokers: brokers, Topics: []string{"a", "b", "missing"}, Back: 2}, func(r kafka.TailRecord) error {
			select {
			case got <- r:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	next := func() kafka.TailRecord {
		t.Helper()
		select {
		case r := <-got:
			return r
		case err := <-done:
			t.Fatalf("Tail returned %v", err)
		case <-time.After(15 * time.Second):
			t.Fatal("no record within 15 s")
		}
		return kafka.TailRecord{}
	}
	// Back 2: the last two records of the partition, in order.
	for _, want := range []string{"2", "3"} {
		if r := next(); r.Topic != "a" || r.Key != "tx-1" || string(r.Value) != want || r.Headers["ce_type"] != "T"+want || r.Time.IsZero() {
			t.Fatalf("record = %+v, want value %s", r, want)
		}
	}
	kafkatest.Produce(t, brokers, "b", "tx-2", []byte("4"), nil)
	if r := next(); r.Topic != "b" || r.Key != "tx-2" || string(r.Value) != "4" {
		t.Fatalf("record = %+v, want b tx-2 4", r)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	groups, err := kadm.NewClient(cl).ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 {
		t.Errorf("groups after a tail = %v, want none", groups.Groups())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Tail after cancel = %v, want nil", err)
	}
}
