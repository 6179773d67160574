package app

import "github.com/edmshop/edm-shop/order-service/domain"

// Observer hears of the saga's milestones, for metrics: an order accepted, and an order
// reaching COMPLETED or CANCELLED. Each is reported once, by the call that made it happen.
type Observer interface {
	OrderAccepted(o domain.Order)
	OrderSettled(o domain.Order)
}

// Observe makes a report the saga's milestones to o.
func (a *App) Observe(o Observer) { a.observer = o }

type noObserver struct{}

func (noObserver) OrderAccepted(domain.Order) {}
func (noObserver) OrderSettled(domain.Order)  {}

// terminal reports whether s ends the saga.
func terminal(s domain.Status) bool {
	return s == domain.StatusCompleted || s == domain.StatusCancelled
}
