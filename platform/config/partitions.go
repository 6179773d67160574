package config

import (
	"fmt"
	"os"
	"strconv"
)

// Partitions reads KAFKA_PARTITIONS, how many partitions a topic a service creates gets (def
// when unset). It bounds how many replicas of a service consume at once: a partition has one
// consumer per group. Topics that exist keep the partitions they have.
func Partitions(def int) (int, error) {
	v := os.Getenv("KAFKA_PARTITIONS")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("KAFKA_PARTITIONS=%q: want a positive whole number", v)
	}
	return n, nil
}
