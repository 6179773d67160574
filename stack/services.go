package stack

import (
	"path/filepath"
)

// Addrs are the HTTP listen addresses of the four programs.
type Addrs struct {
	Order, Inventory, Payment, Gateway string
}

// DefaultAddrs are the contract's ports, on loopback.
var DefaultAddrs = Addrs{Order: "127.0.0.1:8081", Inventory: "127.0.0.1:8082", Payment: "127.0.0.1:8083", Gateway: "127.0.0.1:8084"}

// Services describes the three services and the payment gateway simulator, built into binDir,
// listening on addrs. Broker and store settings (KAFKA_BROKERS, MYSQL_DSN, DYNAMODB_ENDPOINT, ...)
// come from the environment, plus env.
func Services(binDir string, addrs Addrs, env ...string) []Process {
	proc := func(name, addr string, extra ...string) Process {
		return Process{
			Name: name,
			Path: filepath.Join(binDir, name),
			Env:  append(append([]string{"HTTP_ADDR=" + addr}, env...), extra...),
		}
	}
	return []Process{
		proc("payment-gateway", addrs.Gateway),
		proc("order-service", addrs.Order, "STOREFRONT_INVENTORY_URL=http://"+addrs.Inventory),
		proc("inventory-service", addrs.Inventory),
		proc("payment-service", addrs.Payment, "PAYMENT_GATEWAY_URL=http://"+addrs.Gateway),
	}
}

// Binaries lists the main packages Services runs, relative to the repository root, by binary name.
var Binaries = map[string]string{
	"order-service":     "./order-service/cmd/order-service",
	"inventory-service": "./inventory-service/cmd/inventory-service",
	"payment-service":   "./payment-service/cmd/payment-service",
	"payment-gateway":   "./payment-service/cmd/payment-gateway",
}
