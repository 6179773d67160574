package outbox

import (
	"context"
	"time"
)

// Stats is what an outbox holds right now.
type Stats struct {
	// Pending counts the records stored and not yet published.
	Pending int
	// Oldest is when the oldest pending record was stored; zero when none is pending.
	Oldest time.Time
}

// StatsStore is an outbox that can say how far behind its relay is, cheaply enough to be asked
// at every metrics scrape.
type StatsStore interface {
	OutboxStats(ctx context.Context) (Stats, error)
}
