package ports

import (
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// EventHandlers maps the events order-service consumes (topic order) to their use cases.
func EventHandlers(a *app.App) kafka.Handlers {
	return kafka.Handlers{
		event.TypeItemReserved:    a.OnItemReserved,
		event.TypeOutOfStock:      a.OnOutOfStock,
		event.TypePaymentComplete: a.OnPaymentComplete,
		event.TypeItemReleased:    a.OnItemReleased,
	}
}
