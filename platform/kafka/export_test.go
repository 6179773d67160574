package kafka

import (
	"testing"
	"time"
)

// MaxPollInterval exposes maxPollInterval to the tests.
const MaxPollInterval = maxPollInterval

// SetMessageTimeout sets the message.timeout.ms of producers created until the test ends. It
// sets a package variable, so a test that calls it must not run in parallel with others.
func SetMessageTimeout(t testing.TB, d time.Duration) {
	old := messageTimeout
	messageTimeout = d
	t.Cleanup(func() { messageTimeout = old })
}

// LiveGeneration identifies the librdkafka producer p publishes through now.
func LiveGeneration(p *Producer) any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// LiveGenerationRetired reports whether the producer p publishes through now has been retired
// (its next Publish gets a new one).
func LiveGenerationRetired(p *Producer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live != nil && p.live.hasFailed()
}

// Truncate exposes truncate to the tests.
var Truncate = truncate
