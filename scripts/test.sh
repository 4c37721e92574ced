#!/usr/bin/env bash
# The test command: builds what is needed, runs the Rust unit tests and the vitest
# projects (Node, headless Chromium, then the timing tests alone), and ends with one
# line "N passed, N failed" summed from the runners' own reports.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)

node scripts/build-wasm.mjs || exit 1
npx tsc -p tsconfig.build.json && npx rollup -c --silent || exit 1
# Type-check everything else (tests, examples, benches) against the built package.
npx tsc -p tsconfig.json --noEmit || exit 1
node scripts/find-chromium.mjs >/dev/null || exit 1

node scripts/cargo.mjs test --workspace 2>&1 | tee "$out/cargo.txt"
cargo_status=${PIPESTATUS[0]}

npx vitest run --project node --project browser --reporter=default --reporter=json --outputFile.json="$out/vitest.json"
vitest_status=$?
# The main-thread responsiveness tests, alone on the machine (see vitest.config.ts).
npx vitest run --project timing --reporter=default --reporter=json --outputFile.json="$out/timing.json"
timing_status=$?

node scripts/count-results.mjs "$out/cargo.txt" "$out/vitest.json" "$out/timing.json"
count_status=$?
[ "$cargo_status" -eq 0 ] && [ "$vitest_status" -eq 0 ] && [ "$timing_status" -eq 0 ] && [ "$count_status" -eq 0 ]
