package app

// CachedOrders is how many orders apply can find without reading the store.
func (a *App) CachedOrders() int {
	a.recent.mu.Lock()
	defer a.recent.mu.Unlock()
	return len(a.recent.byKey)
}
