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
	flag.Parse()
	for name := range stack.Binaries {
		if _, err := os.Stat(*binDir + "/" + name); err != nil {
			fmt.Fprintf(os.Stderr, "stack: %v (run `make build` first)\n", err)
			os.Exit(1)
		}
	}
	a := stack.DefaultAddrs
	fmt.Printf("order-service      http://%s\ninventory-service  http://%s\npayment-service    http://%s\npayment-gateway    http://%s\n", a.Order, a.Inventory, a.Payment, a.Gateway)
	fmt.Printf("notification-svc   http://%s\ne-mails            http://%s/messages (SMTP sink on %s)\n", a.Notification, a.Mail, a.SMTP)
	s := stack.Start(stack.Services(*binDir, a), os.Stdout)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Println("stack: stopping")
	s.Stop()
}
