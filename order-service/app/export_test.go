package app

// CachedOrders is how many orders apply can find without reading the store.
func (a *App) CachedOrders() int {
	a.recent.mu.Lock()
	defer a.recent.mu.Unlock()
	return len(a.recent.byID)
}

// InFlightCorrections is how many orders recounts added to or took off the in-flight count.
func (a *App) InFlightCorrections() int64 { return a.writes.corrected.Load() }
