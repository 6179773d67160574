package kafka

// MaxPollInterval exposes maxPollInterval to the tests.
const MaxPollInterval = maxPollInterval
