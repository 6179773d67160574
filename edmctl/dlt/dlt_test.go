package dlt_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/edmctl/dlt"
)

func TestTopic(t *testing.T) {
	for in, want := range map[string]string{"inventory": "inventory.dlt", "inventory.dlt": "inventory.dlt", "a.b": "a.b.dlt"} {
		if got := dlt.Topic(in); got != want {
			t.Errorf("Topic(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLatestAndSelect(t *testing.T) {
	l := func(id string, offset int64) dlt.Letter { return dlt.Letter{DLT: "t.dlt", ID: id, Offset: offset} }
	tests := []struct {
		name    string
		letters []dlt.Letter
		want    []int64 // offsets Latest keeps
	}{
		{"empty", nil, nil},
		{"distinct", []dlt.Letter{l("a", 0), l("b", 1)}, []int64{0, 1}},
		{"a replay that failed again supersedes its source", []dlt.Letter{l("a", 0), l("b", 1), l("a", 2)}, []int64{1, 2}},
		{"letters without ce_id all stay", []dlt.Letter{l("", 0), l("", 1)}, []int64{0, 1}},
		{"a letter without ce_id replayed and failed again is superseded", []dlt.Letter{l("", 0), l("", 1), replayOf(l("", 2), "t.dlt/0/0")}, []int64{1, 2}},
		{"a replay of a replay supersedes both", []dlt.Letter{l("", 0), replayOf(l("", 1), "t.dlt/0/0"), replayOf(l("", 2), "t.dlt/0/1")}, []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, x := range dlt.Latest(tt.letters) {
				got = append(got, x.Offset)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Latest kept %v, want %v", got, tt.want)
			}
		})
	}
	letters := []dlt.Letter{l("a", 0), l("b", 1), l("a", 2)}
	if got, err := dlt.Select(letters, "a"); err != nil || got.Offset != 2 || got.Position() != "t.dlt/0/2" {
		t.Fatalf("Select(a) = %+v, %v; want the latest, offset 2", got, err)
	}
	if _, err := dlt.Select(letters, "z"); !errors.Is(err, dlt.ErrNotFound) {
		t.Fatalf("Select(z) err = %v", err)
	}
}

func replayOf(l dlt.Letter, position string) dlt.Letter {
	l.ReplayOf = position
	return l
}

func TestWithoutStandIns(t *testing.T) {
	event, standIn := dlt.Letter{Offset: 1}, dlt.Letter{Offset: 2, OmittedBytes: 10}
	events, standIns := dlt.WithoutStandIns([]dlt.Letter{event, standIn, event})
	if !reflect.DeepEqual(events, []dlt.Letter{event, event}) || !reflect.DeepEqual(standIns, []dlt.Letter{standIn}) {
		t.Errorf("WithoutStandIns = %v, %v", events, standIns)
	}
}

// TestReplayRefusesALetterForAnotherTopic: a letter on order-status.dlt, which only
// notification-service may write, that names payment as its original topic is not replayed
// there (before Replay connects anywhere: the brokers here do not exist).
func TestReplayRefusesALetterForAnotherTopic(t *testing.T) {
	forged := dlt.Letter{DLT: "order-status.dlt", Offset: 3, OriginalTopic: "payment", Key: "tx", Value: "{}"}
	err := dlt.Replay(context.Background(), "127.0.0.1:1", []dlt.Letter{forged})
	if err == nil || !strings.Contains(err.Error(), "payment.dlt") {
		t.Errorf("Replay of a letter naming another topic = %v, want a refusal", err)
	}
}

// TestReplayRefusesAStandIn: a stand-in letter holds no event, so Replay sends nothing and
// says where the event is instead (before it connects anywhere: the brokers here do not exist).
func TestReplayRefusesAStandIn(t *testing.T) {
	standIn := dlt.Letter{DLT: "inventory.dlt", Partition: 0, Offset: 7, OriginalTopic: "inventory", OriginalPartition: 3, OriginalOffset: 42, OmittedBytes: 999_502}
	err := dlt.Replay(context.Background(), "127.0.0.1:1", []dlt.Letter{standIn})
	if err == nil || !strings.Contains(err.Error(), "inventory/3/42") || !strings.Contains(err.Error(), "999502 bytes") {
		t.Errorf("Replay of a stand-in = %v, want a refusal naming inventory/3/42 and the size", err)
	}
}
