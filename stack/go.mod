module github.com/edmshop/edm-shop/stack

go 1.26.0

replace github.com/edmshop/edm-shop/platform => ../platform
