package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// TestComposeReplicasOverride checks docker-compose.replicas.yml: with it, every service that
// may be scaled publishes no fixed host port (two containers cannot bind the same one) and has
// no container_name (which forbids a second container); order-service alone publishes a host
// port range, one port per replica.
func TestComposeReplicasOverride(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml", "../docker-compose.replicas.yml"},
		cli.WithWorkingDirectory(".."), cli.WithName("edmshop"), cli.WithEnv(envExample(t)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml with docker-compose.replicas.yml: %v", err)
	}
	scalable := map[string]string{"order-service": "8091-8099", "inventory-service": "", "payment-service": "", "notification-service": ""}
	for name, wantRange := range scalable {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			if s.ContainerName != "" {
				t.Errorf("container_name %q: a scaled service cannot have one", s.ContainerName)
			}
			var published []string
			for _, port := range s.Ports {
				if port.Published != "" {
					published = append(published, port.Published)
				}
			}
			switch {
			case wantRange == "" && len(published) > 0:
				t.Errorf("publishes host ports %v, want none", published)
			case wantRange != "" && (len(published) != 1 || published[0] != wantRange || s.Ports[0].Target != uint32(appServices[name])):
				t.Errorf("ports %+v, want only %s:%d", s.Ports, wantRange, appServices[name])
			}
			if wantRange != "" && !strings.Contains(wantRange, "-") {
				t.Errorf("%s is one port, not a range", wantRange)
			}
		})
	}
	// The services the override leaves alone keep their ports.
	if ports := service(t, p, "payment-gateway").Ports; len(ports) != 1 || ports[0].Published != "8084" {
		t.Errorf("payment-gateway ports %+v, want 8084", ports)
	}
}
