package adapters

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"
)

// TestClaimDoesNotBringBackADeletedRecord claims a record that was published and deleted after
// the relay's Scan: the claim fails and leaves no item behind.
func TestClaimDoesNotBringBackADeletedRecord(t *testing.T) {
	if os.Getenv("DYNAMODB_ENDPOINT") == "" {
		t.Skip("DYNAMODB_ENDPOINT not set; run `make infra-up` and `eval $(scripts/infra.sh env)`")
	}
	ctx := context.Background()
	cfg := DynamoDBConfigFromEnv()
	suffix := "-claimgone-" + uuid.NewString()[:8]
	cfg.OrdersTable += suffix
	cfg.IdempotencyTable += suffix
	cfg.OutboxTable += suffix
	r, err := NewDynamoDBRepository(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.DeleteTables(context.Background()); err != nil {
			t.Errorf("delete the test's tables: %v", err)
		}
	})
	held, err := r.claim(ctx, []outboxItem{{ID: "deleted-since-the-scan"}}, time.Now())
	if err != nil || len(held) != 0 {
		t.Fatalf("claim of a deleted record = %+v, %v; want nothing held", held, err)
	}
	out, err := r.client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(cfg.OutboxTable), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Fatalf("the claim created %v", out.Items)
	}
}
