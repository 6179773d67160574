package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/lifecycle"
)

func untilCancelled(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func TestRun(t *testing.T) {
	cases := []struct {
		name      string
		cancel    bool
		failing   lifecycle.Part
		wantError string
	}{
		{"cancelling the context stops every part", true, untilCancelled, ""},
		{"a failing part stops the others and is reported by name", false, func(context.Context) error { return errors.New("boom") }, "failing: boom"},
		{"a part that returns early stops the others", false, func(context.Context) error { return nil }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancel {
				cancel()
			}
			done := make(chan error)
			go func() {
				done <- lifecycle.Run(ctx, map[string]lifecycle.Part{"steady": untilCancelled, "failing": c.failing})
			}()
			select {
			case err := <-done:
				if got := errString(err); !strings.Contains(got, c.wantError) || (c.wantError == "" && err != nil) {
					t.Errorf("Run = %v, want %q", err, c.wantError)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
