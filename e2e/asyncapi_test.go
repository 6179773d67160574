package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/edmshop/edm-shop/api"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// asyncAPI is api/asyncapi.yaml compiled for checking records: each message (by its name, the
// ce_type) with its header and payload schemas, and which messages each channel carries.
type asyncAPI struct {
	messages map[string]asyncMessage // by ce_type
	channels map[string][]string     // channel address -> ce_types
	dlt      *jsonschema.Schema      // the dead-letter headers
}

type asyncMessage struct {
	key              string // the component's key: the Go payload type's name
	headers, payload *jsonschema.Schema
}

var (
	asyncAPIOnce sync.Once
	asyncAPIDoc  *asyncAPI
	asyncAPIErr  error
)

func loadAsyncAPI() (*asyncAPI, error) {
	asyncAPIOnce.Do(func() { asyncAPIDoc, asyncAPIErr = parseAsyncAPI(api.AsyncAPI) })
	return asyncAPIDoc, asyncAPIErr
}

func parseAsyncAPI(data []byte) (*asyncAPI, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("api/asyncapi.yaml is not YAML: %w", err)
	}
	// Through JSON, so the schemas hold JSON's types (numbers as json.Number, string keys only).
	asJSON, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		return nil, err
	}
	var parsed struct {
		AsyncAPI string `json:"asyncapi"`
		Channels map[string]struct {
			Address  string                       `json:"address"`
			Messages map[string]map[string]string `json:"messages"`
		} `json:"channels"`
		Components struct {
			Messages map[string]struct {
				Name string `json:"name"`
			} `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(asJSON, &parsed); err != nil {
		return nil, err
	}
	if parsed.AsyncAPI != "3.0.0" {
		return nil, fmt.Errorf("api/asyncapi.yaml is AsyncAPI %q, want 3.0.0", parsed.AsyncAPI)
	}
	const base = "asyncapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(base, doc); err != nil {
		return nil, err
	}
	out := &asyncAPI{messages: map[string]asyncMessage{}, channels: map[string][]string{}}
	nameOf := map[string]string{} // "#/components/messages/X" -> ce_type
	for key, m := range parsed.Components.Messages {
		ptr := "#/components/messages/" + key
		nameOf[ptr] = m.Name
		if m.Name == "DEAD_LETTER" {
			if out.dlt, err = c.Compile(base + ptr + "/headers"); err != nil {
				return nil, fmt.Errorf("asyncapi.yaml %s: %w", ptr, err)
			}
			continue
		}
		var msg asyncMessage
		msg.key = key
		if msg.headers, err = c.Compile(base + ptr + "/headers"); err != nil {
			return nil, fmt.Errorf("asyncapi.yaml %s headers: %w", ptr, err)
		}
		if msg.payload, err = c.Compile(base + ptr + "/payload"); err != nil {
			return nil, fmt.Errorf("asyncapi.yaml %s payload: %w", ptr, err)
		}
		out.messages[m.Name] = msg
	}
	for name, ch := range parsed.Channels {
		for _, ref := range ch.Messages {
			typ, ok := nameOf[ref["$ref"]]
			if !ok {
				return nil, fmt.Errorf("asyncapi.yaml channel %s: message %s is not a component", name, ref["$ref"])
			}
			out.channels[ch.Address] = append(out.channels[ch.Address], typ)
		}
	}
	if out.dlt == nil {
		return nil, fmt.Errorf("asyncapi.yaml has no DEAD_LETTER message")
	}
	return out, nil
}

// checkRecord reports how a record read from the topic of channel breaks api/asyncapi.yaml: a
// type the channel does not carry, a CloudEvents header missing or malformed, a payload outside
// its schema, a key that is not the payload's transactionId. A dead letter's own headers are
// checked; its value is whatever could not be processed.
func (a *asyncAPI) checkRecord(channel string, r kafkatest.Record) error {
	headers := make(map[string]any, len(r.Headers))
	for k, v := range r.Headers {
		headers[k] = v
	}
	if strings.HasSuffix(channel, ".dlt") || (channel == "" && r.Headers["dlt_reason"] != "") {
		if err := a.dlt.Validate(headers); err != nil {
			return fmt.Errorf("dead letter on %s: headers: %v", channel, err)
		}
		return nil
	}
	typ := r.Headers["ce_type"]
	msg, ok := a.messages[typ]
	if !ok {
		return fmt.Errorf("%s: ce_type %q is not a message of api/asyncapi.yaml", channel, typ)
	}
	if channel != "" && !slices.Contains(a.channels[channel], typ) {
		return fmt.Errorf("%s on channel %s, which carries only %v in api/asyncapi.yaml", typ, channel, a.channels[channel])
	}
	if err := msg.headers.Validate(headers); err != nil {
		return fmt.Errorf("%s on %s: headers %v: %v", typ, channel, r.Headers, err)
	}
	payload, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Value))
	if err != nil {
		return fmt.Errorf("%s on %s: value is not JSON: %v", typ, channel, err)
	}
	if err := msg.payload.Validate(payload); err != nil {
		return fmt.Errorf("%s on %s: payload %s: %v", typ, channel, r.Value, err)
	}
	if obj, _ := payload.(map[string]any); obj["transactionId"] != r.Key {
		return fmt.Errorf("%s on %s: key %q is not the payload's transactionId %v", typ, channel, r.Key, obj["transactionId"])
	}
	return nil
}

// injected holds the values the tests themselves put on topics (poison, markers, copies), which
// are not the programs' events and are not checked against the document.
var injected sync.Map

// inject produces a record the test made up, as kafkatest.Produce does, and remembers its value.
func inject(t testing.TB, brokers, topic, key string, value []byte, headers map[string]string) {
	t.Helper()
	injected.Store(string(value), true)
	kafkatest.Produce(t, brokers, topic, key, value, headers)
}

// channelOf names the channel of api/asyncapi.yaml a topic of tg is: the tests run on topics
// with random names.
func (tg *target) channelOf(topic string) string {
	dlt := strings.HasSuffix(topic, ".dlt")
	base := strings.TrimSuffix(topic, ".dlt")
	names := map[string]string{tg.topics.Inventory: "inventory", tg.topics.Payment: "payment", tg.topics.Order: "order",
		tg.topics.OrderStatus: "order-status"}
	ch, ok := names[base]
	if !ok {
		return "" // a topic the target does not name: types and payloads are checked, not the channel
	}
	if dlt {
		ch += ".dlt"
	}
	return ch
}

// readEvents reads every record of topic, as kafkatest.ReadAll does, and fails the test for each
// record the programs published that api/asyncapi.yaml does not allow on that topic.
func (tg *target) readEvents(t testing.TB, topic string) []kafkatest.Record {
	t.Helper()
	a, err := loadAsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	records := kafkatest.ReadAll(t, tg.brokers, topic)
	channel := tg.channelOf(topic)
	for _, r := range records {
		if _, ok := injected.Load(string(r.Value)); ok && !strings.HasSuffix(channel, ".dlt") {
			continue
		}
		if err := a.checkRecord(channel, r); err != nil {
			t.Errorf("asyncapi: %v", err)
		}
	}
	return records
}

// messageKeys lists the component keys of the document's messages, sorted.
func (a *asyncAPI) messageKeys() []string {
	var keys []string
	for _, m := range a.messages {
		keys = append(keys, m.key)
	}
	return slices.Sorted(slices.Values(keys))
}
