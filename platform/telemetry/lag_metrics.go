package telemetry

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// LagInterval is how often RunLagMetrics reads the consumer group's lag.
const LagInterval = 2 * time.Second

// RunLagMetrics keeps edm_consumer_lag{topic,partition} (high watermark minus the group's
// committed offset) up to date, reading it every interval with an admin client of its own
// until ctx is cancelled. It is a lifecycle part beside the consumer, never inside its loop.
func RunLagMetrics(ctx context.Context, reg prometheus.Registerer, brokers, group, topic string, interval time.Duration, log *slog.Logger) error {
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "edm_consumer_lag",
		Help: "Messages of a partition the service's consumer group has not committed yet (high watermark minus committed offset).",
	}, []string{"topic", "partition"})
	reg.MustRegister(lag)
	reader, err := kafka.NewLagReader(brokers, group, topic)
	if err != nil {
		return err
	}
	defer reader.Close()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		readCtx, cancel := context.WithTimeout(ctx, max(interval, 5*time.Second))
		byPartition, err := reader.Lag(readCtx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Debug("consumer lag", "error", err)
		default:
			for p, n := range byPartition {
				lag.WithLabelValues(topic, strconv.Itoa(int(p))).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
