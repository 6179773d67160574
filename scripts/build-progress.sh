#!/usr/bin/env bash
# build-progress.sh ARGS...: `go build -v ARGS`, showing a running count of the packages compiled
# on one line instead of nothing (a cold first build of the sandbox takes a minute or more);
# compiler errors are printed as they are. Used by `make run`.
set -o pipefail
go build -v "$@" 2>&1 | awk '
  /^(#|[^ ]+\.go:|go: )/ { print; next }      # errors and their headers
  { n++; printf "\r  %d packages compiled, last %-50.50s", n, $0; fflush() }
  END { if (n) print "" }'
