package kafka

import (
	"errors"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// IsPermanent reports whether err is the broker (or the client, before sending) refusing a
// message for good: too large, invalid, or not allowed. Sending the same message again fails
// the same way, so it must be set aside, not retried forever.
func IsPermanent(err error) bool {
	var kerr ckafka.Error
	if !errors.As(err, &kerr) {
		return false
	}
	switch kerr.Code() {
	case ckafka.ErrMsgSizeTooLarge, ckafka.ErrRecordListTooLarge, ckafka.ErrInvalidMsgSize, ckafka.ErrInvalidMsg,
		ckafka.ErrInvalidRecord, ckafka.ErrTopicException, ckafka.ErrPolicyViolation,
		ckafka.ErrTopicAuthorizationFailed, ckafka.ErrClusterAuthorizationFailed:
		return true
	}
	return false
}
