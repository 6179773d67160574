package kafka

import (
	"fmt"
	"os"
	"strings"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Security is how a client authenticates to the brokers. The zero value is an anonymous
// PLAINTEXT client: the sandbox and the shared test broker stay open for learners.
type Security struct {
	// Protocol is librdkafka's security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
	Protocol string
	// Mechanism is the SASL mechanism, e.g. SCRAM-SHA-512.
	Mechanism string
	Username  string
	Password  string
}

// SecurityFromEnv reads KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM (default SCRAM-SHA-512
// when the protocol is a SASL one), KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. Credentials
// come only from the environment (compose's .env, a Kubernetes Secret), never from code.
func SecurityFromEnv() Security {
	s := Security{
		Protocol:  os.Getenv("KAFKA_SECURITY_PROTOCOL"),
		Mechanism: os.Getenv("KAFKA_SASL_MECHANISM"),
		Username:  os.Getenv("KAFKA_SASL_USERNAME"),
		Password:  os.Getenv("KAFKA_SASL_PASSWORD"),
	}
	if s.Mechanism == "" && s.sasl() {
		s.Mechanism = "SCRAM-SHA-512"
	}
	return s
}

// Validate reports a SASL protocol without a username or password, so a service with half its
// credentials fails at start-up with a clear message instead of retrying authentication forever.
func (s Security) Validate() error {
	if s.sasl() && (s.Username == "" || s.Password == "") {
		return fmt.Errorf("KAFKA_SECURITY_PROTOCOL=%s needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD", s.Protocol)
	}
	return nil
}

// sasl reports a SASL protocol (librdkafka takes the names in any case).
func (s Security) sasl() bool { return strings.HasPrefix(strings.ToUpper(s.Protocol), "SASL_") }

// Apply sets the security properties on a librdkafka configuration; the zero Security sets none.
func (s Security) Apply(cm *ckafka.ConfigMap) {
	if s.Protocol == "" {
		return
	}
	_ = cm.SetKey("security.protocol", s.Protocol)
	if s.sasl() {
		_ = cm.SetKey("sasl.mechanism", s.Mechanism)
		_ = cm.SetKey("sasl.username", s.Username)
		_ = cm.SetKey("sasl.password", s.Password)
	}
}

// ClientConfig is the configuration every client of this repository starts from: the brokers,
// the security of the environment (SecurityFromEnv) and quiet librdkafka logs. Producers,
// consumers and admin clients (EnsureTopics, the lag reader, edmctl) all build on it, so a
// service authenticates the same way everywhere.
func ClientConfig(brokers string) *ckafka.ConfigMap {
	cm := &ckafka.ConfigMap{"bootstrap.servers": brokers, "log_level": 3}
	SecurityFromEnv().Apply(cm)
	return cm
}

// with returns cm with the given properties added.
func with(cm *ckafka.ConfigMap, props ckafka.ConfigMap) *ckafka.ConfigMap {
	for k, v := range props {
		(*cm)[k] = v
	}
	return cm
}
