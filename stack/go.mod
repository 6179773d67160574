module github.com/edmshop/edm-shop/stack

go 1.26.0

require github.com/edmshop/edm-shop/platform v0.0.0

replace github.com/edmshop/edm-shop/platform => ../platform
