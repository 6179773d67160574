#!/usr/bin/env bash
# fuzz.sh FUZZTIME module:package:FuzzTarget... — runs each native Go fuzz target for FUZZTIME
# (`make fuzz`). A failing input is written to <module>/<package>/testdata/fuzz/<target>/ by go
# test; commit it, and `make test` replays it from then on.
#
# Go 1.26's fuzz coordinator can report "context deadline exceeded" as the -fuzztime deadline
# passes while a worker is mid-call (golang/go#75804, fixed in Go 1.27), more often on a busy
# machine. That failure wrote no input, so it is reported and ignored; any other failure fails.
set -uo pipefail
time=$1
shift
rc=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
  IFS=: read -r module pkg target <<<"$t"
  dir="$module/${pkg#./}/testdata/fuzz/$target"
  before=$(ls "$dir" 2>/dev/null | wc -l)
  echo "== $module $pkg $target ($time)"
  (cd "$module" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg") 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  ((status == 0)) && continue
  after=$(ls "$dir" 2>/dev/null | wc -l)
  if ((after == before)) && grep -q 'context deadline exceeded' "$log"; then
    echo "== $target: ignored the Go fuzz coordinator's deadline race (golang/go#75804); no failing input"
    continue
  fi
  echo "== $target FAILED; failing input (if any) in $dir"
  rc=1
done
exit $rc
