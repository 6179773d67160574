package service

// ConfigErr is the error ConfigFromEnv found in the environment, which Run reports first.
func (c Config) ConfigErr() error {
	if c.deadlineErr != nil {
		return c.deadlineErr
	}
	return c.targetErr
}
