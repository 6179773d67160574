package telemetry_test

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// lagSeries returns edm_consumer_lag of topic in reg by partition label.
func lagSeries(t *testing.T, reg *prometheus.Registry, topic string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "edm_consumer_lag" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["topic"] != topic || len(labels) != 2 {
				t.Errorf("series with labels %v", labels)
				continue
			}
			out[labels["partition"]] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestConsumerLagServesThePartitionsTheConsumerOwns(t *testing.T) {
	cases := []struct {
		name    string
		reports []kafka.Lag
		want    map[string]float64
	}{
		{"nothing reported yet", nil, map[string]float64{}},
		{"one report", []kafka.Lag{{0: 3, 1: 0}}, map[string]float64{"0": 3, "1": 0}},
		{"the latest value wins", []kafka.Lag{{0: 3}, {0: 1}}, map[string]float64{"0": 1}},
		{"a partition moved to another instance", []kafka.Lag{{0: 3, 1: 2, 2: 1}, {1: 0}}, map[string]float64{"1": 0}},
		{"the membership ended", []kafka.Lag{{0: 3, 1: 2}, {}}, map[string]float64{}},
		{"a partition came back", []kafka.Lag{{0: 3}, {1: 1}, {0: 5, 1: 1}}, map[string]float64{"0": 5, "1": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			lag := telemetry.NewConsumerLag(reg, "orders")
			for _, r := range c.reports {
				lag.Observe(r)
			}
			if got := lagSeries(t, reg, "orders"); !maps.Equal(got, c.want) {
				t.Errorf("edm_consumer_lag = %v, want %v", got, c.want)
			}
		})
	}
}
