#!/usr/bin/env bash
# Runs one libFuzzer target of shoal-fuzz (built by `make fuzz-build`) from its seed inputs.
#   scripts/fuzz.sh TARGET [libFuzzer options…]     e.g. scripts/fuzz.sh task-spec -runs=5000
# TARGET: mdp, protobuf, task-spec, gguf or safetensors. New interesting inputs go to
# .build/fuzz/work/TARGET (never into the committed seeds); a crash's input is saved as
# .build/fuzz/crashes/TARGET-… and the script exits non-zero: copy that file into
# Tests/Fuzz/regressions/TARGET/ (the test suite replays it) and fix the parser.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh mdp|protobuf|task-spec|gguf|safetensors [libFuzzer options…]}
shift
binary=.build/fuzz/debug/shoal-fuzz
[ -x "$binary" ] || { echo "$binary missing: run make fuzz-build" >&2; exit 1; }
[ -d "Tests/Fuzz/corpus/$target" ] || { echo "no seeds for '$target' in Tests/Fuzz/corpus" >&2; exit 64; }
mkdir -p ".build/fuzz/work/$target" .build/fuzz/crashes "Tests/Fuzz/regressions/$target"
started=$(date +%s)
if ! SHOAL_FUZZ_TARGET=$target "$binary" ".build/fuzz/work/$target" "Tests/Fuzz/corpus/$target" "Tests/Fuzz/regressions/$target" \
    -max_len=4096 -timeout=10 -rss_limit_mb=2048 -seed=1 -print_final_stats=0 \
    -artifact_prefix=".build/fuzz/crashes/$target-" "$@" > ".build/fuzz/$target.log" 2>&1; then
  tail -40 ".build/fuzz/$target.log" >&2
  echo "fuzz $target: FAILED; the input is in .build/fuzz/crashes/ (copy it into Tests/Fuzz/regressions/$target/)" >&2
  exit 1
fi
echo "fuzz $target: $(grep -Eo '^Done [0-9]+ runs' ".build/fuzz/$target.log" | tail -1 || echo done), no crash ($(( $(date +%s) - started )) s)"
