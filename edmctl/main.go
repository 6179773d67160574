// Command edmctl operates an EDM Shop installation from the command line. Today it handles
// dead letters:
//
//	edmctl dlt list   [-topic inventory.dlt] [-json] [-brokers 127.0.0.1:9092]
//	edmctl dlt replay -topic inventory.dlt (-id CE_ID | -all) [-brokers 127.0.0.1:9092]
//
// list prints each dead letter (every *.dlt topic when -topic is not given): ce_id, type, key,
// reason, original topic/partition/offset and when it was dead-lettered. replay republishes the
// original key, value and headers to the original topic and partition with an
// edm_replayed_from header; -all replays the latest letter of each ce_id. -brokers defaults to
// $KAFKA_BROKERS, else 127.0.0.1:9092. A -topic without the .dlt suffix means its dead-letter
// twin. On an authenticated Kafka it logs in as the services do, from KAFKA_SECURITY_PROTOCOL,
// KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD; replaying needs a principal
// that may write the original topic, e.g. admin (docs/kafka-auth.md).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/edmshop/edm-shop/edmctl/dlt"
	"github.com/edmshop/edm-shop/platform/config"
)

const usage = `usage:
  edmctl dlt list   [-topic inventory.dlt] [-json] [-brokers host:port]
  edmctl dlt replay -topic inventory.dlt (-id CE_ID | -all) [-brokers host:port]
`

// errUsage is a command line that does not say what to do; main exits 2 on it.
var errUsage = errors.New("bad usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "edmctl:", err)
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// run executes one edmctl command line, writing results to stdout and usage to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "dlt" {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	fs := flag.NewFlagSet("edmctl dlt "+args[1], flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("brokers", config.Brokers(), "Kafka bootstrap servers")
	topic := fs.String("topic", "", "dead-letter topic (list: every *.dlt topic when empty)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	switch args[1] {
	case "list":
		asJSON := fs.Bool("json", false, "print a JSON array")
		if err := fs.Parse(args[2:]); err != nil {
			return errUsage
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return list(ctx, *brokers, *topic, *asJSON, stdout)
	case "replay":
		id := fs.String("id", "", "replay the (latest) letter with this ce_id")
		all := fs.Bool("all", false, "replay the latest letter of every ce_id")
		if err := fs.Parse(args[2:]); err != nil {
			return errUsage
		}
		if *topic == "" || (*id == "") == !*all {
			fmt.Fprint(stderr, "edmctl dlt replay needs -topic and exactly one of -id or -all\n"+usage)
			return errUsage
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return replay(ctx, *brokers, dlt.Topic(*topic), *id, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return errUsage
	}
}

func list(ctx context.Context, brokers, topic string, asJSON bool, stdout io.Writer) error {
	topics := []string{dlt.Topic(topic)}
	if topic == "" {
		var err error
		if topics, err = dlt.Topics(brokers); err != nil {
			return err
		}
	}
	letters := []dlt.Letter{}
	for _, t := range topics {
		ls, err := dlt.List(ctx, brokers, t)
		if err != nil {
			return err
		}
		letters = append(letters, ls...)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(letters)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CE_ID\tTYPE\tKEY\tORIGINAL (TOPIC/PARTITION/OFFSET)\tTIME\tLETTER\tREPLAY_OF\tREASON")
	for _, l := range letters {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s/%d/%d\t%s\t%s\t%s\t%s\n", dash(l.ID), dash(l.Type), dash(l.Key),
			dash(l.OriginalTopic), l.OriginalPartition, l.OriginalOffset, l.Time.Format(time.RFC3339),
			l.Position(), dash(l.ReplayOf), oneLine(l.Reason))
	}
	return w.Flush()
}

func replay(ctx context.Context, brokers, topic, id string, stdout io.Writer) error {
	letters, err := dlt.List(ctx, brokers, topic)
	if err != nil {
		return err
	}
	if id != "" {
		l, err := dlt.Select(letters, id)
		if err != nil {
			return err
		}
		letters = []dlt.Letter{l}
	} else {
		var standIns []dlt.Letter
		letters, standIns = dlt.WithoutStandIns(dlt.Latest(letters))
		for _, l := range standIns {
			fmt.Fprintf(stdout, "skipped %s: it stands in for an event of %d bytes the dead-letter topic refused, at %s/%d/%d until that topic's retention\n",
				l.Position(), l.OmittedBytes, l.OriginalTopic, l.OriginalPartition, l.OriginalOffset)
		}
	}
	if err := dlt.Replay(ctx, brokers, letters); err != nil {
		return err
	}
	for _, l := range letters {
		fmt.Fprintf(stdout, "replayed %s %s (key %s) from %s to %s\n", dash(l.ID), dash(l.Type), dash(l.Key), l.Position(), l.OriginalTopic)
	}
	fmt.Fprintf(stdout, "%d replayed\n", len(letters))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
