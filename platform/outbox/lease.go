package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Lease is how long a relay holds the records it read before another replica's relay may take
// them: the rows of a replica that dies are published by another this long after its last read.
// A relay publishes and deletes a batch in milliseconds, so a live relay's lease never lapses
// in normal operation; it renews its lease on what it still holds each time it reads.
const Lease = 5 * time.Second

// NewOwner returns a name for one relay's claims, unique across processes and hosts: the host,
// the process id and random bits (a restarted process must not inherit its predecessor's claims).
func NewOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	owner := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	if len(owner) > 64 {
		owner = owner[len(owner)-64:]
	}
	return owner
}
