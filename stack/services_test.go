package stack

import (
	"slices"
	"testing"
)

func TestKafkaLogin(t *testing.T) {
	t.Setenv("KAFKA_PASSWORD_PAYMENT_SERVICE", "from-shell")
	t.Setenv("KAFKA_PASSWORD_ORDER_SERVICE", "from-shell")
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"payment-service", nil, []string{"KAFKA_SASL_USERNAME=payment-service", "KAFKA_SASL_PASSWORD=from-shell"}},
		{"order-service", []string{"KAFKA_PASSWORD_ORDER_SERVICE=given"}, []string{"KAFKA_SASL_USERNAME=order-service", "KAFKA_SASL_PASSWORD=given"}},
		{"inventory-service", []string{"KAFKA_PASSWORD_ORDER_SERVICE=given"}, nil},
		{"payment-gateway", nil, nil},
	}
	for _, c := range cases {
		if got := KafkaLogin(c.name, c.env); !slices.Equal(got, c.want) {
			t.Errorf("KafkaLogin(%s, %v) = %v, want %v", c.name, c.env, got, c.want)
		}
	}
	// Each Kafka service gets its own login, after the shared env so that it wins.
	for _, p := range Services("bin", DefaultAddrs, "KAFKA_PASSWORD_INVENTORY_SERVICE=inv") {
		want := map[string]string{"payment-service": "payment-service", "order-service": "order-service", "inventory-service": "inventory-service"}[p.Name]
		if want == "" {
			continue
		}
		if i := slices.Index(p.Env, "KAFKA_SASL_USERNAME="+want); i < 0 || i < len(p.Env)-2 {
			t.Errorf("%s env %v: its KAFKA_SASL_USERNAME is missing or not last but one", p.Name, p.Env)
		}
	}
}
