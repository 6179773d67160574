// Package ports connects notification-service to the outside: the events it consumes
// (events.go) and its HTTP routes (http.go), thin layers over package app.
package ports

import (
	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// EventHandlers maps the events notification-service consumes (topic order-status) to its use case.
func EventHandlers(a *app.App) kafka.Handlers {
	return kafka.Handlers{
		event.TypeOrderCompleted: a.OnOrderStatus,
		event.TypeOrderCancelled: a.OnOrderStatus,
	}
}
