// Package ports connects payment-service's use cases to the outside: Kafka events and HTTP.
package ports

import (
	"github.com/edmshop/edm-shop/payment-service/app"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// EventHandlers routes the events of the payment topic to the use cases. Any other event type
// goes to the dead-letter topic.
func EventHandlers(a *app.App) kafka.Handlers {
	return kafka.Handlers{
		event.TypeItemReserved: a.OnItemReserved,
		event.TypeOrderExpired: a.OnOrderExpired,
	}
}
