module github.com/edmshop/edm-shop/api

go 1.26.0
