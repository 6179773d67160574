module github.com/edmshop/edm-shop/sandbox

go 1.26.0

require github.com/edmshop/edm-shop/platform v0.0.0

replace github.com/edmshop/edm-shop/platform => ../platform
require (
	github.com/edmshop/edm-shop/order-service v0.0.0
	github.com/edmshop/edm-shop/inventory-service v0.0.0
	github.com/edmshop/edm-shop/payment-service v0.0.0
)

replace (
	github.com/edmshop/edm-shop/order-service => ../order-service
	github.com/edmshop/edm-shop/inventory-service => ../inventory-service
	github.com/edmshop/edm-shop/payment-service => ../payment-service
)
