package adapters

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edmshop/edm-shop/notification-service/app"
)

// MailpitMailbox asks a Mailpit-compatible API (Mailpit itself, or the sandbox's sink, which
// answers the same search) whether it holds an e-mail with a Message-ID.
type MailpitMailbox struct {
	// BaseURL is the API's root, e.g. http://mailpit:8025.
	BaseURL string
	Client  *http.Client
}

var _ app.Mailbox = (*MailpitMailbox)(nil)

// NewMailpitMailbox returns a mailbox for the API at baseURL.
func NewMailpitMailbox(baseURL string) *MailpitMailbox {
	return &MailpitMailbox{BaseURL: strings.TrimRight(baseURL, "/"), Client: &http.Client{Timeout: 5 * time.Second}}
}

// Delivered implements app.Mailbox with GET /api/v1/search?query=message-id:"<id>". It trusts
// only an exact MessageID in the answer, so a server that ignores the filter makes it answer
// false (the e-mail is sent again) rather than a wrong true (the e-mail is lost).
func (m *MailpitMailbox) Delivered(ctx context.Context, messageID string) (bool, error) {
	q := url.Values{"query": {`message-id:"` + messageID + `"`}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.BaseURL+"/api/v1/search?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	resp, err := m.Client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("mailbox search: %s", resp.Status)
	}
	var found struct {
		Messages []struct {
			MessageID string `json:"MessageID"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil {
		return false, fmt.Errorf("mailbox search: %w", err)
	}
	for _, msg := range found.Messages {
		if strings.Trim(msg.MessageID, "<>") == messageID {
			return true, nil
		}
	}
	return false, nil
}
