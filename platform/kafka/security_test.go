package kafka

import (
	"testing"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func TestSecurityFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    map[string]string // properties ClientConfig sets besides bootstrap.servers and log_level
		invalid bool
	}{
		{name: "unset is anonymous plaintext", env: map[string]string{}, want: map[string]string{}},
		{name: "sasl scram with credentials",
			env:  map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_USERNAME": "order-service", "KAFKA_SASL_PASSWORD": "pw"},
			want: map[string]string{"security.protocol": "sasl_plaintext", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "order-service", "sasl.password": "pw"}},
		{name: "explicit mechanism",
			env:  map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"},
			want: map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "u", "sasl.password": "p"}},
		{name: "ssl sets no sasl", env: map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL"}, want: map[string]string{"security.protocol": "SSL"}},
		{name: "sasl without password", env: map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"},
			want: map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u", "sasl.password": ""}, invalid: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"} {
				t.Setenv(name, c.env[name])
			}
			if err := SecurityFromEnv().Validate(); (err != nil) != c.invalid {
				t.Fatalf("Validate() = %v, want invalid %v", err, c.invalid)
			}
			for _, cm := range []*ckafka.ConfigMap{ClientConfig("b:9092"), producerConfig("b:9092"), consumerConfig("b:9092", "g")} {
				got := map[string]string{}
				for k, v := range *cm {
					if k == "security.protocol" || k == "sasl.mechanism" || k == "sasl.username" || k == "sasl.password" {
						got[k] = v.(string)
					}
				}
				if len(got) != len(c.want) {
					t.Fatalf("security properties %v, want %v", got, c.want)
				}
				for k, v := range c.want {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
				if (*cm)["bootstrap.servers"] != "b:9092" {
					t.Errorf("bootstrap.servers = %v", (*cm)["bootstrap.servers"])
				}
			}
		})
	}
}
