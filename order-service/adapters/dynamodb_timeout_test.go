package adapters_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// TestADynamoDBThatNeverAnswersFailsTheCallAfterBoundedAttempts points the repository's client
// at a server that accepts connections and never answers (a hung DynamoDB): the call must
// end with an error by itself, without a context deadline, after exactly the configured
// attempts, each on a connection of its own.
func TestADynamoDBThatNeverAnswersFailsTheCallAfterBoundedAttempts(t *testing.T) {
	if adapters.DynamoCallBound >= kafka.DefaultHandlerTimeout {
		t.Errorf("a DynamoDB call may take %v, not inside the handler timeout %v", adapters.DynamoCallBound, kafka.DefaultHandlerTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	client, err := adapters.NewDynamoDBClient(context.Background(), adapters.DynamoDBConfig{Endpoint: "http://" + ln.Addr().String(), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err == nil {
		t.Fatal("a call to a server that never answers succeeded")
	}
	if n := accepted.Load(); n != adapters.DynamoAttempts {
		t.Errorf("%d attempts, want %d (%v)", n, adapters.DynamoAttempts, err)
	}
}
