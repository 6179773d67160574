package adapters

import "net/mail"

// addressOf is the bare address of a From header value ("EDM Shop <orders@x>" -> orders@x).
func addressOf(header string) (string, error) {
	a, err := mail.ParseAddress(header)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}
