#!/usr/bin/env bash
# A real single-node SLURM (munged, slurmctld, slurmd started here) runs
# packaging/slurm/nephro3d-array.sbatch over small phantom cases; one array task
# is requeued while it runs. Checks: every case complete exactly once (one "done"
# per case over all task logs), outputs whole and readable, no temporary file
# left, batch-summary exits 0, the requeued task really restarted.
# Needs root (munged and slurmd); exits 77 (skipped) with the reason otherwise.
#   slurm_array_test.sh NEPHRO3D_BINARY SOURCE_DIR
set -uo pipefail
NEPHRO3D=$(readlink -f "$1")
SRC=$(readlink -f "$2")
SKIP=77
CASES=${CASES:-4}
SHARDS=${SHARDS:-2}

skip() { echo "SKIPPED: $*"; exit $SKIP; }
fail() { echo "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to start munged and slurmd (running as $(id -un))"
[ -x "$NEPHRO3D" ] || fail "$NEPHRO3D is not built"

WORK=$(mktemp -d /tmp/nephro3d-slurm.XXXXXX)
chmod 755 "$WORK"
source "$SRC/tests/cluster/slurm_local.sh"
cleanup() {
  slurm_local_stop
  if [ "${KEEP:-0}" = 1 ] || [ "${STATUS:-1}" != 0 ]; then echo "files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
slurm_local_start "$WORK/slurm" || skip "could not start a local SLURM cluster (see above)"

# Small cases: the small phantom's delayed phase, a different seed each (model ureter, the smallest demo network).
export NEPHRO3D_MODELS_DIR=${NEPHRO3D_MODELS_DIR:-$SRC/models}
export NEPHRO3D_RESOURCE_DIR=${NEPHRO3D_RESOURCE_DIR:-$SRC/resources}
mkdir -p "$WORK/in"
for k in $(seq 1 "$CASES"); do
  c=$(printf 'case%02d' "$k")
  "$NEPHRO3D" phantom --out "$WORK/gen" --size small --seed "$k" --quiet >/dev/null || fail "phantom $k"
  mkdir -p "$WORK/in/$c"
  mv "$WORK/gen/phantom_D.nii.gz" "$WORK/in/$c/${c}_D.nii.gz"
done
rm -rf "$WORK/gen"

OUT=$WORK/out
cd "$WORK"
# No GPUs on this node: --gres=none overrides the script's gpu:1.
JOB=$(NEPHRO3D="$NEPHRO3D" NEPHRO3D_DEVICE=cpu sbatch --parsable --gres=none --cpus-per-task=1 \
  --array=0-$((SHARDS - 1))%$SHARDS --output="$WORK/task-%a.log" \
  "$SRC/packaging/slurm/nephro3d-array.sbatch" "$WORK/in" "$OUT" --models ureter) || fail "sbatch failed"
JOB=${JOB%%;*}
echo "submitted array job $JOB: $CASES cases, $SHARDS shards"

task_state() { squeue -h -r -j "$JOB" -o '%i %T' 2>/dev/null | awk -v t="${JOB}_$1" '$1 == t {print $2}'; }

# Requeue the last task while it runs, in the middle of its first case's network.
VICTIM=$((SHARDS - 1))
for i in $(seq 1 480); do
  [ "$(task_state $VICTIM)" = RUNNING ] && grep -q 'ureter: network' "$WORK/task-$VICTIM.log" 2>/dev/null && break
  sleep 0.25
done
[ "$(task_state $VICTIM)" = RUNNING ] || fail "task $VICTIM never ran: $(squeue -h -r -j "$JOB" 2>&1)"
grep -q 'case.. done' "$WORK/task-$VICTIM.log" && echo "note: task $VICTIM finished a case before the requeue"
scontrol requeue "${JOB}_${VICTIM}" || fail "scontrol requeue ${JOB}_${VICTIM}"
echo "requeued ${JOB}_${VICTIM} while running"
# A requeued task waits with a begin time in the future: once pending, let it start now.
for i in $(seq 1 120); do
  s=$(task_state $VICTIM)
  [ "$s" = PENDING ] && break
  sleep 0.25
done
[ "$(task_state $VICTIM)" = PENDING ] || fail "requeued task not pending (state: $(task_state $VICTIM))"
scontrol update JobId="${JOB}_${VICTIM}" StartTime=now || fail "cannot release the requeued task"

for i in $(seq 1 960); do
  [ -z "$(squeue -h -r -j "$JOB" 2>/dev/null)" ] && break
  sleep 0.25
done
[ -z "$(squeue -h -r -j "$JOB" 2>/dev/null)" ] || fail "array not finished in time: $(squeue -h -r -j "$JOB" 2>&1)"

# Every task completed with exit 0, the victim after one restart.
for t in $(seq 0 $((SHARDS - 1))); do
  info=$(scontrol -o show job "${JOB}_${t}" 2>&1)
  grep -q 'JobState=COMPLETED' <<<"$info" || { cat "$WORK/task-$t.log"; fail "task $t: $(grep -o 'JobState=[A-Z_]*.*ExitCode=[0-9:]*' <<<"$info")"; }
  grep -q 'ExitCode=0:0' <<<"$info" || fail "task $t exit code: $info"
  if [ "$t" = "$VICTIM" ]; then
    grep -q 'Restarts=1' <<<"$info" || fail "task $t was not restarted: $info"
  fi
done

# Exactly once: one "done" line per case over every log (a requeued shard skips what it finished).
for k in $(seq 1 "$CASES"); do
  c=$(printf 'case%02d' "$k")
  n=$(cat "$WORK"/task-*.log | grep -c "^$c: done$")
  [ "$n" = 1 ] || { cat "$WORK"/task-*.log; fail "$c done $n times"; }
  [ -f "$OUT/$c/provenance.json" ] || fail "$c has no provenance.json"
  "$NEPHRO3D" info "$OUT/$c/ureter.nii.gz" >/dev/null 2>&1 || fail "$OUT/$c/ureter.nii.gz is not a whole image"
  [ -f "$OUT/$c/ureter.json" ] || fail "$c has no label table"
done
left=$(find "$OUT" -name '.partial-*' | head -n 3)
[ -z "$left" ] || fail "temporary files left: $left"
grep -c "restart 1" "$WORK/task-$VICTIM.log" >/dev/null || fail "task $VICTIM log shows no restart"
"$NEPHRO3D" batch-summary "$OUT" || fail "batch-summary exit $?"
[ "$(tail -n +2 "$OUT/summary.csv" | wc -l)" = "$CASES" ] || fail "summary.csv rows"
echo "--- task $VICTIM log (requeued)"
cat "$WORK/task-$VICTIM.log"
STATUS=0
echo "PASSED: $CASES cases over $SHARDS array tasks, task $VICTIM requeued mid-run, every case done exactly once"
