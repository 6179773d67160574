module github.com/edmshop/edm-shop/e2e

go 1.26.0

require (
	github.com/compose-spec/compose-go/v2 v2.16.2
	github.com/edmshop/edm-shop/platform v0.0.0
)

require (
	github.com/distribution/reference v0.5.0 // indirect
	github.com/docker/go-connections v0.4.0 // indirect
	github.com/docker/go-units v0.5.0 // indirect
	github.com/go-viper/mapstructure/v2 v2.4.0 // indirect
	github.com/mattn/go-shellwords v1.0.12 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.1 // indirect
	github.com/sirupsen/logrus v1.10.1 // indirect
	github.com/xhit/go-str2duration/v2 v2.1.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	go.yaml.in/yaml/v4 v4.0.0-rc.4 // indirect
	golang.org/x/sync v0.21.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
	golang.org/x/text v0.38.0 // indirect
)

replace github.com/edmshop/edm-shop/platform => ../platform

require (
	github.com/edmshop/edm-shop/sandbox v0.0.0
	github.com/edmshop/edm-shop/stack v0.0.0
	github.com/edmshop/edm-shop/inventory-service v0.0.0
	github.com/edmshop/edm-shop/order-service v0.0.0
	github.com/edmshop/edm-shop/payment-service v0.0.0
)

replace (
	github.com/edmshop/edm-shop/sandbox => ../sandbox
	github.com/edmshop/edm-shop/stack => ../stack
	github.com/edmshop/edm-shop/inventory-service => ../inventory-service
	github.com/edmshop/edm-shop/order-service => ../order-service
	github.com/edmshop/edm-shop/payment-service => ../payment-service
)
