package sqldb

// Queued is how many jobs wait for the writer, for tests that line jobs up in one group.
func (w *Writer) Queued() int { return len(w.jobs) }
