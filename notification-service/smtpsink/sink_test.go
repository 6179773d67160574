package smtpsink_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"testing"

	"github.com/edmshop/edm-shop/notification-service/smtpsink"
)

func TestSinkOverSMTPAndHTTP(t *testing.T) {
	sink := smtpsink.New(slog.New(slog.DiscardHandler))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sink.ServeSMTP(ctx, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeSMTP: %v", err)
		}
	}()
	for i, id := range []string{"a@x", "b@x"} {
		msg := "Message-ID: <" + id + ">\r\nSubject: s" + string(rune('0'+i)) + "\r\nX-Edm-Transaction-Id: tx-" + id + "\r\n\r\nbody\r\n"
		if err := smtp.SendMail(l.Addr().String(), nil, "from@x", []string{"to@x", "cc@x"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	api := httptest.NewServer(sink.Handler())
	defer api.Close()
	get := func(path string) (int, []smtpsink.Message) {
		resp, err := http.Get(api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []smtpsink.Message
		var wrapped struct {
			Messages []smtpsink.Message `json:"messages"`
			Count    int                `json:"messages_count"`
		}
		if resp.StatusCode == http.StatusOK {
			var raw json.RawMessage
			json.NewDecoder(resp.Body).Decode(&raw)
			if json.Unmarshal(raw, &list) != nil {
				json.Unmarshal(raw, &wrapped)
				list = wrapped.Messages
			}
		}
		return resp.StatusCode, list
	}
	cases := []struct {
		path   string
		status int
		ids    []string
	}{
		{"/messages", 200, []string{"a@x", "b@x"}},
		{"/messages?messageId=b@x", 200, []string{"b@x"}},
		{"/messages?transactionId=tx-a@x", 200, []string{"a@x"}},
		{"/api/v1/messages", 200, []string{"a@x", "b@x"}},
		{"/api/v1/search?query=" + url.QueryEscape(`message-id:"a@x"`), 200, []string{"a@x"}},
		{"/api/v1/search?query=" + url.QueryEscape(`message-id:"nope"`), 200, nil},
		{"/api/v1/search?query=subject:s0", 400, nil},
	}
	for _, c := range cases {
		status, list := get(c.path)
		var ids []string
		for _, m := range list {
			ids = append(ids, m.MessageID)
			if len(m.To) != 2 || m.From != "from@x" || m.Text != "body\n" {
				t.Errorf("%s: message %+v", c.path, m)
			}
		}
		if status != c.status || len(ids) != len(c.ids) || (len(ids) > 0 && ids[0] != c.ids[0]) {
			t.Errorf("GET %s = %d %v, want %d %v", c.path, status, ids, c.status, c.ids)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, api.URL+"/messages", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /messages: %v", err)
	}
	if len(sink.Messages()) != 0 {
		t.Error("DELETE /messages kept messages")
	}
}
