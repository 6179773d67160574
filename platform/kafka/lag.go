package kafka

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Lag is, per partition the consumer owns, how many of the partition's messages its group has
// not committed yet: the high watermark minus the committed offset, or minus the low watermark
// when the group committed nothing there yet (the consumer starts from the earliest message).
//
// The consumer computes it from librdkafka's statistics, which hold the watermarks of the last
// fetch response and the offsets committed or fetched at assignment: no request to the broker.
// An AdminClient asking for the group's offsets (ListConsumerGroupOffsets) every 2 s crashed
// every service when the broker restarted (librdkafka issue #4605, the assertion
// `eonce->refcnt > 0` or a segfault inside the admin coordinator request; issue #9).
type Lag map[int32]int64

// partitionLag is the lag of one partition from librdkafka's view of it; ok is false while a
// watermark it needs is not known yet (no fetch response so far).
func partitionLag(committed, low, high int64) (lag int64, ok bool) {
	if high < 0 {
		return 0, false
	}
	from := committed
	if from < 0 { // nothing committed: the whole partition is behind
		if low < 0 {
			return 0, false
		}
		from = low
	}
	return max(high-from, 0), true
}

// statsPartition is what fromStats reads of a partition in librdkafka's statistics JSON.
type statsPartition struct {
	Desired   bool  `json:"desired"`
	Committed int64 `json:"committed_offset"`
	Low       int64 `json:"lo_offset"`
	High      int64 `json:"hi_offset"`
}

// Share is how much of its topic a consumer owns: Owned of the topic's Of partitions. The zero
// Share means not known yet, or no longer a member.
type Share struct{ Owned, Of int }

// Fraction returns Owned / Of, or 0 while Of is not known.
func (s Share) Fraction() float64 {
	if s.Of <= 0 {
		return 0
	}
	return float64(s.Owned) / float64(s.Of)
}

// fromStats reads from librdkafka's statistics JSON the Lag of topic, over the partitions of
// the consumer's current assignment ("desired") and leaving out the internal partition -1 and
// those whose watermarks are not known yet, and how many partitions the topic has as far as
// the client's metadata knows (0 before it arrived).
func fromStats(stats []byte, topic string) (lag Lag, partitions int, err error) {
	var s struct {
		Topics map[string]struct {
			Partitions map[string]statsPartition `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(stats, &s); err != nil {
		return nil, 0, fmt.Errorf("librdkafka statistics: %w", err)
	}
	lag = Lag{}
	for id, p := range s.Topics[topic].Partitions {
		n, err := strconv.ParseInt(id, 10, 32)
		if err != nil || n < 0 {
			continue
		}
		partitions++
		if !p.Desired {
			continue
		}
		if l, ok := partitionLag(p.Committed, p.Low, p.High); ok {
			lag[int32(n)] = l
		}
	}
	return lag, partitions, nil
}
