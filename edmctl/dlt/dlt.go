// Package dlt reads dead letters from the saga's dead-letter topics and replays them to the
// topics they came from. It is the library behind `edmctl dlt`.
//
// A dead letter is the original message (key, value, headers) plus the dlt_* headers that
// platform/kafka's consumer adds: the reason, the original topic, partition and offset, the
// consumer group and the time. Replay republishes the original key, value and headers, without
// the dlt_* ones, to the original topic and partition, adding kafka.HeaderReplayedFrom. The
// services deduplicate events by ce_id, so replaying a letter twice changes nothing; a replayed
// event that fails again is dead-lettered again, once, and nothing here ever replays on its own.
package dlt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// Letter is one dead letter and where it sits.
type Letter struct {
	// Where the letter is: its dead-letter topic, partition and offset.
	DLT       string `json:"dlt"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`

	// The event's CloudEvents attributes and key, as far as the original message had them.
	ID     string `json:"ceId"`
	Type   string `json:"type"`
	Source string `json:"source,omitempty"`
	Key    string `json:"key"`

	Reason            string    `json:"reason"`
	OriginalTopic     string    `json:"originalTopic"`
	OriginalPartition int32     `json:"originalPartition"`
	OriginalOffset    int64     `json:"originalOffset"`
	ConsumerGroup     string    `json:"consumerGroup,omitempty"`
	Time              time.Time `json:"time"`
	// ReplayOf names the letter ("<dlt>/<partition>/<offset>") this event was replayed from
	// before it failed again; empty for a first failure.
	ReplayOf string `json:"replayOf,omitempty"`

	// Value is the original message value, as text; empty in a stand-in letter.
	Value string `json:"value"`
	// OmittedBytes is set on a stand-in letter: the dead-letter topic refused the original
	// message (too large with the dead-letter headers), so the letter names it and its size,
	// and the event is read at its original offset.
	OmittedBytes int `json:"omittedBytes,omitempty"`

	headers []ckafka.Header // the original message's own headers, without dlt_* ones
	origin  bool            // the original partition and offset headers were present
}

// Position names the letter as HeaderReplayedFrom does: "<dlt>/<partition>/<offset>".
func (l Letter) Position() string { return fmt.Sprintf("%s/%d/%d", l.DLT, l.Partition, l.Offset) }

// Topic returns the dead-letter topic for name: name itself when it already ends in .dlt,
// otherwise its dead-letter twin, so `-topic inventory` and `-topic inventory.dlt` agree.
func Topic(name string) string {
	if strings.HasSuffix(name, ".dlt") {
		return name
	}
	return kafka.DeadLetterTopic(name)
}

// Topics lists the dead-letter topics on the brokers, sorted.
func Topics(brokers string) ([]string, error) {
	admin, err := ckafka.NewAdminClient(kafka.ClientConfig(brokers))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	md, err := admin.GetMetadata(nil, true, 10000)
	if err != nil {
		return nil, fmt.Errorf("read topics from %s: %w", brokers, err)
	}
	var out []string
	for name := range md.Topics {
		if strings.HasSuffix(name, ".dlt") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// List reads every letter in the dead-letter topic dlt, from the start to the end it has when
// List begins, oldest dead-lettering first. It commits nothing and joins no consumer group.
func List(ctx context.Context, brokers, dlt string) ([]Letter, error) {
	// kafka.ClientConfig: the credentials of the environment (KAFKA_SECURITY_PROTOCOL, ...).
	kc, err := ckafka.NewConsumer(withProps(kafka.ClientConfig(brokers), ckafka.ConfigMap{
		// Needed by librdkafka, but never used: Assign joins no group and nothing is committed.
		"group.id":           "edmctl",
		"enable.auto.commit": false,
		// Also ends a partition whose last offsets hold no record (transaction markers).
		"enable.partition.eof": true,
	}))
	if err != nil {
		return nil, err
	}
	defer kc.Close()
	md, err := kc.GetMetadata(&dlt, false, 10000)
	if err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", dlt, err)
	}
	tm, ok := md.Topics[dlt]
	if !ok || tm.Error.Code() != ckafka.ErrNoError {
		return nil, fmt.Errorf("topic %s: %v", dlt, tm.Error)
	}
	var assign []ckafka.TopicPartition
	ends := map[int32]int64{}
	for _, p := range tm.Partitions {
		low, high, err := kc.QueryWatermarkOffsets(dlt, p.ID, 10000)
		if err != nil {
			return nil, fmt.Errorf("offsets of %s/%d: %w", dlt, p.ID, err)
		}
		if high > low {
			ends[p.ID] = high
			assign = append(assign, ckafka.TopicPartition{Topic: &dlt, Partition: p.ID, Offset: ckafka.Offset(low)})
		}
	}
	var out []Letter
	if len(assign) == 0 {
		return out, nil
	}
	if err := kc.Assign(assign); err != nil {
		return nil, err
	}
	for len(ends) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w (%d partitions unfinished)", dlt, err, len(ends))
		}
		switch ev := kc.Poll(100).(type) {
		case *ckafka.Message:
			if ev.TopicPartition.Error != nil {
				return nil, ev.TopicPartition.Error
			}
			out = append(out, parse(ev))
			if int64(ev.TopicPartition.Offset)+1 >= ends[ev.TopicPartition.Partition] {
				delete(ends, ev.TopicPartition.Partition)
			}
		case ckafka.PartitionEOF:
			delete(ends, ev.Partition)
		case ckafka.Error:
			if ev.IsFatal() || ev.Code() == ckafka.ErrAllBrokersDown {
				return nil, ev
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Letter) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return out, nil
}

// parse reads a letter from a dead-letter message. Where a header repeats, the last one counts:
// it is the one the latest dead-lettering added.
func parse(m *ckafka.Message) Letter {
	l := Letter{
		DLT:       *m.TopicPartition.Topic,
		Partition: m.TopicPartition.Partition,
		Offset:    int64(m.TopicPartition.Offset),
		Key:       string(m.Key),
		Value:     string(m.Value),
		Time:      m.Timestamp.UTC(),
	}
	var partition, offset bool
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case "ce_id":
			l.ID = v
		case "ce_type":
			l.Type = v
		case "ce_source":
			l.Source = v
		case kafka.HeaderDLTReason:
			l.Reason = v
		case kafka.HeaderDLTTopic:
			l.OriginalTopic = v
		case kafka.HeaderDLTPartition:
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				l.OriginalPartition, partition = int32(n), true
			}
		case kafka.HeaderDLTOffset:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				l.OriginalOffset, offset = n, true
			}
		case kafka.HeaderDLTGroup:
			l.ConsumerGroup = v
		case kafka.HeaderDLTOmitted:
			l.OmittedBytes, _ = strconv.Atoi(v)
		case kafka.HeaderDLTTime:
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				l.Time = t
			}
		case kafka.HeaderReplayedFrom:
			l.ReplayOf = v
		}
		if !strings.HasPrefix(h.Key, "dlt_") && h.Key != kafka.HeaderReplayedFrom {
			l.headers = append(l.headers, h)
		}
	}
	l.origin = partition && offset
	return l
}

// Latest keeps, of the letters with one ce_id, the latest, and drops every letter a later
// letter was replayed from: when a replayed event failed again, its new letter supersedes the
// one it was replayed from, so replaying "all" never sends one event twice (without the second
// rule, letters without a ce_id would double with each replay of all). Order is preserved.
func Latest(letters []Letter) []Letter {
	last := map[string]int{}
	replayed := map[string]bool{}
	for i, l := range letters {
		if l.ID != "" {
			last[l.ID] = i
		}
		if l.ReplayOf != "" {
			replayed[l.ReplayOf] = true
		}
	}
	var out []Letter
	for i, l := range letters {
		if (l.ID == "" || last[l.ID] == i) && !replayed[l.Position()] {
			out = append(out, l)
		}
	}
	return out
}

// WithoutStandIns splits off the stand-in letters (see Letter.OmittedBytes), which hold no
// event to replay, so that replaying all the others is not held up by them.
func WithoutStandIns(letters []Letter) (events, standIns []Letter) {
	for _, l := range letters {
		if l.OmittedBytes > 0 {
			standIns = append(standIns, l)
		} else {
			events = append(events, l)
		}
	}
	return events, standIns
}

// ErrNotFound is returned by Select when no letter has the ce_id asked for.
var ErrNotFound = errors.New("no dead letter with that ce_id")

// Select returns the latest letter with ce_id id.
func Select(letters []Letter, id string) (Letter, error) {
	for i := len(letters) - 1; i >= 0; i-- {
		if letters[i].ID == id {
			return letters[i], nil
		}
	}
	return Letter{}, fmt.Errorf("%w %q", ErrNotFound, id)
}

// Replay republishes each letter's original key, value and headers to its original topic and
// partition, adding kafka.HeaderReplayedFrom, and returns once the broker acknowledged all of
// them. A letter whose original topic is unknown, a stand-in, or a letter that names another
// topic than the one its dead-letter topic serves is an error, and nothing is sent: only the
// consumers of a topic may write its dead letters (kafka/create-acls.sh), and a letter's
// headers are theirs to write, so honouring any topic they name would let one service publish,
// through the operator, to a topic it may not write.
func Replay(ctx context.Context, brokers string, letters []Letter) error {
	for _, l := range letters {
		if l.OriginalTopic == "" {
			return fmt.Errorf("letter %s has no %s header: cannot tell where to replay it", l.Position(), kafka.HeaderDLTTopic)
		}
		if want := kafka.DeadLetterTopic(l.OriginalTopic); l.DLT != want {
			return fmt.Errorf("letter %s names %s as its original topic, whose dead letters go to %s: refusing to replay it there", l.Position(), l.OriginalTopic, want)
		}
		if l.OmittedBytes > 0 {
			return fmt.Errorf("letter %s stands in for an event of %d bytes the dead-letter topic refused: it holds no event to replay (the event is at %s/%d/%d until that topic's retention)",
				l.Position(), l.OmittedBytes, l.OriginalTopic, l.OriginalPartition, l.OriginalOffset)
		}
	}
	p, err := ckafka.NewProducer(withProps(kafka.ClientConfig(brokers), ckafka.ConfigMap{
		"enable.idempotence": true,
		"acks":               "all",
		// As the services' producers: a letter without a recorded partition lands where its key
		// belongs (murmur2, as Java clients hash), next to the other events of its order.
		"partitioner":        "murmur2_random",
		"message.timeout.ms": 30000,
	}))
	if err != nil {
		return err
	}
	defer p.Close()
	reports := make(chan ckafka.Event, len(letters))
	for _, l := range letters {
		topic := l.OriginalTopic
		partition := ckafka.PartitionAny
		if l.origin {
			partition = l.OriginalPartition
		}
		headers := append(slices.Clip(l.headers), ckafka.Header{Key: kafka.HeaderReplayedFrom, Value: []byte(l.Position())})
		msg := &ckafka.Message{
			TopicPartition: ckafka.TopicPartition{Topic: &topic, Partition: partition},
			Key:            []byte(l.Key),
			Value:          []byte(l.Value),
			Headers:        headers,
		}
		if l.Key == "" {
			msg.Key = nil
		}
		if err := p.Produce(msg, reports); err != nil {
			return fmt.Errorf("replay %s: %w", l.Position(), err)
		}
	}
	var failed []error
	for range letters {
		select {
		case <-ctx.Done():
			return fmt.Errorf("replay: %w", ctx.Err())
		case ev := <-reports:
			if m, ok := ev.(*ckafka.Message); ok && m.TopicPartition.Error != nil {
				failed = append(failed, m.TopicPartition.Error)
			}
		}
	}
	return errors.Join(failed...)
}

// withProps returns cm with props added.
func withProps(cm *ckafka.ConfigMap, props ckafka.ConfigMap) *ckafka.ConfigMap {
	for k, v := range props {
		(*cm)[k] = v
	}
	return cm
}
