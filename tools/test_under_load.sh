#!/usr/bin/env bash
# `make test` N times in a row (default 10) with HOGS busy loops beside it (default 1), to catch
# flaky tests: tests must wait for what they check, not for a quiet machine.
#     tools/test_under_load.sh [N] [HOGS]      # logs in reports/under-load/, one line per run
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
hogs=${2:-1}
out=reports/under-load
mkdir -p "$out"
make setup >/dev/null || exit 1
pids=()
for _ in $(seq "$hogs"); do
  (while :; do :; done) &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  make test >"$out/run$i.log" 2>&1
  rc=$?
  ((rc)) && failed=$((failed + 1))
  echo "run $i: rc=$rc $(($(date +%s) - start)) s; $(grep -E '^[0-9]+ (passed|failed)|^micropython:|^FAILED|^ERROR' "$out/run$i.log" | tr '\n' ' ' | cut -c1-300)"
done
echo "under load: $((runs - failed)) of $runs runs passed"
((failed == 0))
