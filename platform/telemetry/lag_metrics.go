package telemetry

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// LagInterval is how often the consumer reports its lag (kafka.ConsumerConfig.LagInterval).
const LagInterval = 2 * time.Second

// ConsumerLag keeps edm_consumer_lag{topic,partition} up to date from what the consumer
// reports (kafka.ConsumerConfig.OnLag): each instance serves the partitions it owns, and drops
// the series of a partition once it no longer owns it, so summing over instances counts every
// partition once.
type ConsumerLag struct {
	gauge *prometheus.GaugeVec
	topic string

	mu    sync.Mutex
	owned map[int32]bool // partitions with a series
}

// NewConsumerLag registers edm_consumer_lag for the consumer of topic.
func NewConsumerLag(reg prometheus.Registerer, topic string) *ConsumerLag {
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edm_consumer_lag",
		Help: "Messages of a partition the service's consumer group has not committed yet (high watermark minus committed offset). " +
			"Each instance reports the partitions it owns: with replicas, sum over instances.",
	}, []string{"topic", "partition"})
	reg.MustRegister(gauge)
	return &ConsumerLag{gauge: gauge, topic: topic, owned: map[int32]bool{}}
}

// Observe sets the gauge of every partition in lag and removes those no longer owned.
func (c *ConsumerLag) Observe(lag kafka.Lag) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.owned {
		if _, ok := lag[p]; !ok {
			c.gauge.DeleteLabelValues(c.topic, strconv.Itoa(int(p)))
			delete(c.owned, p)
		}
	}
	for p, n := range lag {
		c.gauge.WithLabelValues(c.topic, strconv.Itoa(int(p))).Set(float64(n))
		c.owned[p] = true
	}
}
