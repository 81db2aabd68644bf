#!/usr/bin/env bash
# Builds the readers' libFuzzer targets with clang in a separate build folder
# and runs each for a set time, then reports crashes, hangs (over 10 s for one
# input) and out-of-memory (over 4 GiB) per reader.
#
#   tests/bench/fuzz/run_fuzz.sh [SECONDS_PER_READER (default 600)] [reader ...]
#
# Readers: nifti nrrd mha dicom labels. NEPHRO3D_FUZZ_BUILD names the build
# folder (default build-fuzz/). Found inputs are kept in build-fuzz/fuzz/artifacts/.
# AddressSanitizer reserves terabytes of address space, so the 4 GiB limit is
# enforced by libFuzzer (-rss_limit_mb and -malloc_limit_mb), not by ulimit -v.
# Leak detection is off: ITK's NRRD and MetaImage readers leak a few hundred
# bytes on every file they reject, which would end each run at its first error.
set -u
seconds=${1:-600}
shift || true
readers=${*:-nifti nrrd mha dicom labels}
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${NEPHRO3D_FUZZ_BUILD:-$root/build-fuzz}
clangxx=${CXX_FUZZ:-clang++-14}
clangc=${CC_FUZZ:-clang-14}
command -v "$clangxx" > /dev/null || { echo "run_fuzz.sh: $clangxx not found (apt-get install clang-14 libclang-rt-14-dev)"; exit 2; }

mkdir -p "$build"
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
flags="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -g"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNEPHRO3D_FUZZ=ON \
  -DCMAKE_C_COMPILER="$clangc" -DCMAKE_CXX_COMPILER="$clangxx" "${launcher[@]}" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags -include $root/tests/bench/fuzz/itk_clang_shim.h" > "$build/configure.log" 2>&1 \
  || { echo "run_fuzz.sh: configure failed, see $build/configure.log"; exit 2; }
targets=()
for r in $readers; do targets+=(--target "fuzz_$r"); done
cmake --build "$build" -j"${FUZZ_JOBS:-2}" "${targets[@]}" > "$build/build.log" 2>&1 \
  || { echo "run_fuzz.sh: build failed, see $build/build.log"; exit 2; }

work=$build/fuzz
mkdir -p "$work/artifacts"
python3 "$root/tests/bench/fuzz/make_seeds.py" "$work/seeds"
status=0
printf "%-8s %8s %12s %10s %8s %6s %6s %6s\n" reader seconds executions exec/s corpus crash hang oom
for r in $readers; do
  corpus=$work/corpus/$r
  mkdir -p "$corpus"
  cp -n "$work/seeds/$r"/* "$corpus/" 2> /dev/null
  log=$work/$r.log
  start=$(date +%s)
  (cd "$work" && ASAN_OPTIONS=detect_leaks=0 timeout --kill-after=30 $((seconds + 120)) "$build/fuzz/fuzz_$r" "$corpus" \
     -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=4096 \
     -artifact_prefix="$work/artifacts/$r-" -print_final_stats=1 -close_fd_mask=3 -detect_leaks=0 > "$log" 2>&1)
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crash=$(ls "$work/artifacts" | grep -c "^$r-crash-\|^$r-leak-\|^$r-deadly-")
  hang=$(ls "$work/artifacts" | grep -c "^$r-timeout-")
  oom=$(ls "$work/artifacts" | grep -c "^$r-oom-")
  [ "$rc" -eq 124 ] && hang=$((hang + 1))
  printf "%-8s %8s %12s %10s %8s %6s %6s %6s\n" "$r" "$elapsed" "${execs:-?}" "${rate:-?}" "$(ls "$corpus" | wc -l)" "$crash" "$hang" "$oom"
  if [ "$rc" -ne 0 ] || [ $((crash + hang + oom)) -gt 0 ]; then status=1; fi
done
[ $status -ne 0 ] && echo "inputs that failed are in $work/artifacts/ (logs: $work/<reader>.log)"
exit $status
