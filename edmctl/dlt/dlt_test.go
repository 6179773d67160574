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

// TestReplayRefusesAStandIn: a stand-in letter holds no event, so Replay sends nothing and
// says where the event is instead (before it connects anywhere: the brokers here do not exist).
func TestReplayRefusesAStandIn(t *testing.T) {
	standIn := dlt.Letter{DLT: "inventory.dlt", Partition: 0, Offset: 7, OriginalTopic: "inventory", OriginalPartition: 3, OriginalOffset: 42, OmittedBytes: 999_502}
	err := dlt.Replay(context.Background(), "127.0.0.1:1", []dlt.Letter{standIn})
	if err == nil || !strings.Contains(err.Error(), "inventory/3/42") || !strings.Contains(err.Error(), "999502 bytes") {
		t.Errorf("Replay of a stand-in = %v, want a refusal naming inventory/3/42 and the size", err)
	}
}
