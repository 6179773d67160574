package smtpsink

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Handler is the sink's HTTP API:
//   - GET /messages: every e-mail, oldest first; ?messageId= or ?transactionId= filter.
//   - DELETE /messages: forget them all.
//   - GET /api/v1/messages and GET /api/v1/search?query=message-id:"<id>": the Mailpit
//     calls the platform makes, answered in Mailpit's shape ({"messages":[...],"messages_count":n}).
//   - GET /readyz, GET /healthz.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, filter(s.Messages(), r.URL.Query().Get("messageId"), r.URL.Query().Get("transactionId")))
	})
	mux.HandleFunc("DELETE /messages", func(w http.ResponseWriter, r *http.Request) {
		s.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v1/messages", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, mailpitList(s.Messages()))
	})
	mux.HandleFunc("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query().Get("query")
		id, ok := strings.CutPrefix(query, "message-id:")
		if !ok {
			// The platform's JSON error body, with its content type (http.Error would say text/plain).
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"UNSUPPORTED_QUERY","message":"only message-id:<id> is supported"}}`))
			return
		}
		writeJSON(w, mailpitList(filter(s.Messages(), strings.Trim(id, `"<>`), "")))
	})
	ok := func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]string{"status": "ok"}) }
	mux.HandleFunc("GET /readyz", ok)
	mux.HandleFunc("GET /healthz", ok)
	return mux
}

func filter(all []Message, messageID, transactionID string) []Message {
	out := []Message{}
	for _, m := range all {
		if (messageID == "" || m.MessageID == messageID) && (transactionID == "" || m.TransactionID == transactionID) {
			out = append(out, m)
		}
	}
	return out
}

func mailpitList(msgs []Message) any {
	return map[string]any{"total": len(msgs), "messages_count": len(msgs), "messages": msgs}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
