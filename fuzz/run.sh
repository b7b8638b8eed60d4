#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cc) in build-fuzz/ with clang, ASan and UBSan, then
# runs each for SECONDS (default 30), one process at a time, on its seed corpus fuzz/corpus/NAME/.
#   fuzz/run.sh [SECONDS] [NAME...]      e.g. fuzz/run.sh 300 fuzz_dns
# Inputs that reach new code go to build-fuzz/corpus/NAME/ (not the repo); a crash, a leak, a
# failed FUZZ_CHECK or an input slower than 25 s stops that target, leaves the input in
# build-fuzz/artifacts/ and makes the script exit 1 after the others ran. Reproduce one with
# `build-fuzz/fuzz/NAME FILE`.
# Environment: JOBS (build jobs; default 1, as this is a third tree next to build/ and build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
all=(fuzz_labels fuzz_selector fuzz_exposition fuzz_dns fuzz_http_request fuzz_remote_write
     fuzz_config fuzz_rule_file fuzz_template fuzz_alertmanager_api)
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all[@]}"); fi

build_dir=build-fuzz
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DNINES_FUZZ=ON -DNINES_WERROR=ON -DNINES_BUILD_TESTS=OFF -DNINES_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "${JOBS:-1}" --target "${targets[@]}"

mkdir -p "$build_dir/artifacts"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$build_dir/corpus/$t"
  log="$build_dir/$t.log"
  echo "fuzz: $t for ${seconds}s"
  if "$build_dir/fuzz/$t" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
      -artifact_prefix="$build_dir/artifacts/$t-" "$build_dir/corpus/$t" "fuzz/corpus/$t" \
      >"$log" 2>&1; then
    # "#123456 DONE cov: 900 ft: 3000 corp: 150/20Kb lim: 4096 exec/s: 4115 rss: 80Mb"
    echo "fuzz: $t ok: $(grep -E '^#[0-9]+ +DONE' "$log" | tail -1)"
  else
    echo "fuzz: $t FAILED (log: $log)"
    grep -E 'ERROR|FUZZ_CHECK|runtime error|Test unit written|SUMMARY' "$log" | head -20 || true
    failed+=("$t")
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
