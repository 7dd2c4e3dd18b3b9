#!/usr/bin/env bash
# Smoke test of tools/bench: a --quick run against the binaries of the build
# folder it is given (no build, no targets asserted) must exit 0 and print a
# row for Parley and for each peer in every scenario it runs (scenario 7's
# may say it was skipped: PostgreSQL is not installed everywhere).
# Usage: bench_smoke_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:?usage: bench_smoke_test.sh BUILD_DIR}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$root/tools/bench" --quick --no-build --build-dir "$build_dir" >"$out" 2>&1; then
  echo "FAIL: tools/bench --quick exited non-zero:" >&2
  cat "$out" >&2
  exit 1
fi
cat "$out"

failed=0
# SERVER SCENARIO: a table row whose first two columns are these.
expect_row() {
  if ! grep -Eq "^$1 +$2" "$out"; then
    echo "FAIL: no row for $1 in scenario $2" >&2
    failed=1
  fi
}
expect_row 'parley \(mock\)' '1: '
expect_row 'fastapi' '1: '
expect_row 'fastapi-wal' '1: '
expect_row 'echo' '1: '
expect_row 'frames' '1: '
expect_row 'parley \(mock\)' '2: '
expect_row 'parley \(mock\)' '3: 50 idle'
expect_row 'parley \(mock\)' '4: REST'
expect_row 'knowledge' '5: '
expect_row 'parley \(mock\)' '6: .*, 200 deltas'
expect_row 'parley \(mock\)' '6: .*, 1 delta'
expect_row 'parley \(mock\)' '7: .*postgresql'
grep -q "Parley's throughput / each peer's: fastapi " "$out" ||
  { echo "FAIL: no ratios line" >&2; failed=1; }
grep -q "^scenario 3, idle sessions" "$out" ||
  { echo "FAIL: no table of idle sessions" >&2; failed=1; }
grep -q "^scenario 5, knowledge search: 500 sections" "$out" ||
  { echo "FAIL: no knowledge search line" >&2; failed=1; }
grep -q "^scenario 6, streaming: .* ms per delta" "$out" ||
  { echo "FAIL: no streaming line" >&2; failed=1; }
# Every row that ran answered without errors: the last column is 0.
if awk '/^(parley|fastapi|echo|frames|knowledge)/ && !/ skipped / && $NF != 0 { bad = 1 } END { exit !bad }' "$out"; then
  echo "FAIL: a row has errors" >&2
  failed=1
fi
exit "$failed"
