package config

import (
	"fmt"
	"os"
	"time"
)

// Duration reads the environment variable name as a Go duration ("30s", "1m30s"), or returns
// def when it is unset or empty. A value that does not parse, or is not positive, is an error
// naming the variable.
func Duration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return def, fmt.Errorf("%s=%q: want a positive Go duration such as 30s", name, v)
	}
	return d, nil
}
