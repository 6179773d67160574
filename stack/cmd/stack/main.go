// Command stack runs the services and the payment gateway simulator as separate processes
// against the real servers of `make infra-up`, restarting any that dies, until Ctrl-C.
// `make stack` builds the binaries into bin/ and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/stack"
)

func main() {
	binDir := flag.String("bin", "bin", "directory holding the service binaries")
	replicas := flag.Int("replicas", 1, "processes of each service; replica n listens on the first one's port + 10·(n−1)")
	flag.Parse()
	for name := range stack.Binaries {
		if _, err := os.Stat(*binDir + "/" + name); err != nil {
			fmt.Fprintf(os.Stderr, "stack: %v (run `make build` first)\n", err)
			os.Exit(1)
		}
	}
	a := stack.DefaultAddrs
	for n := 1; n <= max(*replicas, 1); n++ {
		fmt.Printf("order-service      http://%s\ninventory-service  http://%s\npayment-service    http://%s\nnotification-svc   http://%s\n",
			stack.ReplicaAddr(a.Order, n), stack.ReplicaAddr(a.Inventory, n), stack.ReplicaAddr(a.Payment, n), stack.ReplicaAddr(a.Notification, n))
	}
	fmt.Printf("payment-gateway    http://%s\ne-mails            http://%s/messages (SMTP sink on %s)\n", a.Gateway, a.Mail, a.SMTP)
	s := stack.Start(stack.Replicas(*binDir, a, *replicas), os.Stdout)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Println("stack: stopping")
	s.Stop()
}
