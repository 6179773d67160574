# Observability without Docker, for `make stack`. Included from the top-level Makefile.
# Prometheus only: Grafana and Jaeger are not Debian packages and run in compose
# (observability/README.md).
.PHONY: stack-prometheus

## stack-prometheus: Debian's prometheus (apt-get install prometheus) scraping the `make stack`
## services on localhost with the compose scrape config; UI on 127.0.0.1:9090 (Ctrl-C stops)
stack-prometheus:
	scripts/prometheus.sh run
