package kafka

import (
	"maps"
	"testing"
)

func TestPartitionLag(t *testing.T) {
	cases := []struct {
		name                 string
		committed, low, high int64
		want                 int64
		wantOK               bool
	}{
		{"caught up", 10, 0, 10, 0, true},
		{"behind the high watermark", 6, 0, 10, 4, true},
		{"nothing committed: the whole partition", -1001, 3, 10, 7, true},
		{"nothing committed, empty partition", -1001, 0, 0, 0, true},
		{"committed past a high watermark not refreshed yet", 12, 0, 10, 0, true},
		{"no fetch response yet", 6, -1001, -1001, 0, false},
		{"nothing committed and no low watermark yet", -1001, -1001, 10, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := partitionLag(c.committed, c.low, c.high)
			if got != c.want || ok != c.wantOK {
				t.Errorf("partitionLag(%d, %d, %d) = %d, %v; want %d, %v", c.committed, c.low, c.high, got, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestFromStats(t *testing.T) {
	// Trimmed from a librdkafka 2.15 consumer's statistics.
	const stats = `{"name":"rdkafka#consumer-1","type":"consumer","topics":{
	 "orders":{"topic":"orders","partitions":{
	  "0":{"partition":0,"desired":true,"committed_offset":6,"lo_offset":0,"hi_offset":10,"consumer_lag":4},
	  "1":{"partition":1,"desired":true,"committed_offset":-1001,"lo_offset":0,"hi_offset":4,"consumer_lag":-1},
	  "2":{"partition":2,"desired":true,"committed_offset":-1001,"lo_offset":-1001,"hi_offset":-1001},
	  "3":{"partition":3,"desired":false,"committed_offset":2,"lo_offset":0,"hi_offset":9},
	  "-1":{"partition":-1,"desired":false,"committed_offset":-1001,"lo_offset":-1001,"hi_offset":-1001}}},
	 "orders.dlt":{"topic":"orders.dlt","partitions":{
	  "0":{"partition":0,"desired":true,"committed_offset":0,"lo_offset":0,"hi_offset":5}}}}}`
	cases := []struct {
		name       string
		stats      string
		topic      string
		want       Lag
		partitions int
	}{
		{"assigned partitions with known watermarks", stats, "orders", Lag{0: 4, 1: 4}, 4},
		{"another topic", stats, "orders.dlt", Lag{0: 5}, 1},
		{"a topic the consumer has not seen", stats, "payments", Lag{}, 0},
		{"no topics yet", `{"type":"consumer"}`, "orders", Lag{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, partitions, err := fromStats([]byte(c.stats), c.topic)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) || partitions != c.partitions {
				t.Errorf("lag = %v, %d partitions; want %v, %d", got, partitions, c.want, c.partitions)
			}
		})
	}
	if _, _, err := fromStats([]byte("{not json"), "orders"); err == nil {
		t.Error("bad JSON: no error")
	}
}

func TestShareFraction(t *testing.T) {
	cases := []struct {
		share Share
		want  float64
	}{
		{Share{Owned: 12, Of: 12}, 1},
		{Share{Owned: 3, Of: 12}, 0.25},
		{Share{Owned: 0, Of: 12}, 0},
		{Share{}, 0},
	}
	for _, c := range cases {
		if got := c.share.Fraction(); got != c.want {
			t.Errorf("%+v.Fraction() = %v, want %v", c.share, got, c.want)
		}
	}
}
