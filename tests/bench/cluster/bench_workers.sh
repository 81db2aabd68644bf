#!/usr/bin/env bash
# NATS JetStream workers: the same 12 small jobs (/smoothing/base on the phantom
# labels: a mesh stage and a report stage each) through one `serve --queue`
# with one worker, then with three workers. Prints wall time from the first
# submission to the last job final, throughput, and each worker's share of the mesh stages.
# Then model affinity: MODEL_JOBS model jobs alternating vessel and ureter through two
# workers whose network memory holds one network (--model-memory-mb 1), with affinity
# (the loaded network's stages first) and with --no-affinity; prints the networks loaded.
# Usage: bench_workers.sh PATH/TO/nephro3d-engine [JOBS] [MODEL_JOBS]
set -u
ENGINE=$1
JOBS=${2:-12}
MODEL_JOBS=${3:-8}
source "$(cd "$(dirname "$0")" && pwd)/../../unit/queue/lib.sh"
NATS_SERVER=$(find_nats_server) || { echo "nats-server is not installed"; exit 1; }
T=$(mktemp -d /tmp/nephro3d-nats-bench.XXXXXX)
trap 'stop_all; rm -rf "$T"' EXIT
KEY=bench-key
echo "$KEY" | "$ENGINE" serve --hash-key --key-name bench >"$T/keys"
"$ENGINE" phantom --out "$T/data/ph" -q || exit 1
printf "%-8s %8s %8s %12s  %s\n" workers jobs wall_s jobs_per_s "mesh stages per worker"
for workers in 1 3; do
  run=$T/run$workers
  mkdir -p "$run/nats" "$run/spool"
  NPORT=$(free_port)
  URL=nats://127.0.0.1:$NPORT
  PIDS=()
  start_nats "$run/nats" "$NPORT" "$run/nats.log" || { echo "nats-server did not start"; exit 1; }
  start_serve "$run/spool" "$T/data" "$T/keys" "$URL" "$run/serve.log" || { echo "serve did not start"; exit 1; }
  for w in $(seq 1 "$workers"); do start_worker "w$w" "$run/spool" "$URL" "$run/w$w.log"; done
  for w in $(seq 1 "$workers"); do  # every worker connected and bound before the clock starts
    for _ in $(seq 1 600); do grep -q "taking stages" "$run/w$w.log" && break; sleep 0.1; done
  done
  t0=$(date +%s.%N)
  ids=()
  for i in $(seq 1 "$JOBS"); do ids+=("$(submit_mask "$T/data/ph")"); done
  wait_final 600 "${ids[@]}" || { echo "jobs not final within 600 s"; exit 1; }
  t1=$(date +%s.%N)
  ok=0
  for id in "${ids[@]}"; do [ "$(job_state "$id")" = succeeded ] && ok=$((ok + 1)); done
  share=""
  for w in $(seq 1 "$workers"); do share+="w$w=$(grep -c ': done .*-mesh)' "$run/w$w.log") "; done
  wall=$(echo "$t1 - $t0" | bc -l)
  printf "%-8s %8s %8.1f %12.3f  %s(%d/%d succeeded)\n" "$workers" "$JOBS" "$wall" "$(echo "$JOBS / $wall" | bc -l)" "$share" "$ok" "$JOBS"
  stop_all
  PIDS=()
done
echo
printf "%-12s %8s %8s %14s  %s\n" affinity jobs wall_s network_loads "loads per worker (model stages run)"
VESSEL_JOB='{"inputs": {"A": "ph/phantom_A.nii.gz", "P": "ph/phantom_P.nii.gz"}, "models": ["vessel"]}'
URETER_JOB='{"inputs": {"D": "ph/phantom_D.nii.gz"}, "models": ["ureter"]}'
for mode in on off; do
  run=$T/models-$mode
  mkdir -p "$run/nats" "$run/spool"
  NPORT=$(free_port)
  URL=nats://127.0.0.1:$NPORT
  PIDS=()
  start_nats "$run/nats" "$NPORT" "$run/nats.log" || { echo "nats-server did not start"; exit 1; }
  start_serve "$run/spool" "$T/data" "$T/keys" "$URL" "$run/serve.log" || { echo "serve did not start"; exit 1; }
  # The model consumers exist before the workers look for them; the jobs are all queued before any worker starts.
  ids=()
  for i in $(seq 1 "$MODEL_JOBS"); do
    if ((i % 2)); then ids+=("$(submit_json "$VESSEL_JOB")"); else ids+=("$(submit_json "$URETER_JOB")"); fi
  done
  flag=(); [ "$mode" = off ] && flag=(--no-affinity)
  wpids=()
  t0=$(date +%s.%N)
  for w in 1 2; do start_worker "w$w" "$run/spool" "$URL" "$run/w$w.log" --model-memory-mb 1 "${flag[@]}"; wpids+=("$WORKER_PID"); done
  wait_final 900 "${ids[@]}" || { echo "model jobs not final within 900 s"; exit 1; }
  t1=$(date +%s.%N)
  for p in "${wpids[@]}"; do stop_pid "$p" TERM; done
  total=0; per=""
  for w in 1 2; do
    loads=$(sed -n 's/.*stopped after .* stage(s), \([0-9]*\) network load(s).*/\1/p' "$run/w$w.log")
    total=$((total + ${loads:-0}))
    per+="w$w=${loads:-?} ($(grep -c ': start .*-model-' "$run/w$w.log")) "
  done
  ok=0
  for id in "${ids[@]}"; do [ "$(job_state "$id")" = succeeded ] && ok=$((ok + 1)); done
  printf "%-12s %8s %8.1f %14s  %s(%d/%d succeeded)\n" "$mode" "$MODEL_JOBS" "$(echo "$t1 - $t0" | bc -l)" "$total" "$per" "$ok" "$MODEL_JOBS"
  stop_all
  PIDS=()
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
