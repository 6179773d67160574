package loadgen

import (
	"errors"
	"testing"
)

func TestRetryablePlacesAgainOnlyWhenTheOrderMayExist(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection error", errors.New("connection reset"), true},
		{"500 after a store timeout", &StatusError{Status: 500}, true},
		{"504", &StatusError{Status: 504}, true},
		{"503 overloaded: paced by the caller", &StatusError{Status: 503}, false},
		{"400 bad request", &StatusError{Status: 400}, false},
		{"409 key reused", &StatusError{Status: 409}, false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("%s: retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
