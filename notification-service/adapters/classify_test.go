package adapters

import (
	"errors"
	"net/textproto"
	"testing"

	"github.com/edmshop/edm-shop/notification-service/app"
)

func TestClassify(t *testing.T) {
	reply := func(code int) error { return &textproto.Error{Code: code, Msg: "x"} }
	cases := []struct {
		name     string
		err      error
		rejected bool
		deferred bool
	}{
		{"5xx to RCPT", rcptError{reply(550)}, true, false},
		{"5xx to the message", reply(554), true, false},
		{"4xx to RCPT: this recipient, for now", rcptError{reply(450)}, false, true},
		{"4xx to MAIL: the server, for now", reply(451), false, false},
		{"4xx after the message: the server's storage", reply(452), false, false},
		{"421 to RCPT: the server closing the session", rcptError{reply(421)}, false, false},
		{"no reply at all", errors.New("connection reset"), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(tc.err)
			if errors.Is(err, app.ErrRejected) != tc.rejected || errors.Is(err, app.ErrDeferred) != tc.deferred {
				t.Errorf("classify = %v; want rejected %v, deferred %v", err, tc.rejected, tc.deferred)
			}
		})
	}
}
