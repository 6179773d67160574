package ports

import (
	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// EventHandlers maps the events of the inventory topic to their use cases. Any other type goes
// to the dead-letter topic.
func EventHandlers(a *app.App) kafka.Handlers {
	return kafka.Handlers{
		event.TypeOrderCreate:   a.OnOrderCreated,
		event.TypePaymentFailed: a.OnPaymentFailed,
		event.TypeOrderExpired:  a.OnOrderExpired,
	}
}
