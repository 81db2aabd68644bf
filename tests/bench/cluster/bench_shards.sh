#!/usr/bin/env bash
# The same small cases through one `--batch` process and through N shards
# (`--batch --shard I/N`) run concurrently, as SLURM array tasks on one node
# would; prints wall time and throughput of each, and checks that the shards
# together finished every case exactly once (batch-summary).
#   bench_shards.sh NEPHRO3D_ENGINE [--cases 12] [--shards 2] [--models ureter] [--keep]
set -euo pipefail
NEPHRO3D=$(readlink -f "$1")
shift
CASES=12 SHARDS=2 MODELS=ureter KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --cases) CASES=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CORES=$(nproc)
WORK=$(mktemp -d /tmp/nephro3d-bench-shards.XXXXXX)
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
echo "generating $CASES small phantom cases (delayed phase, seeds 1..$CASES) in $WORK/in"
for k in $(seq 1 "$CASES"); do
  c=$(printf 'case%02d' "$k")
  "$NEPHRO3D" phantom --out "$WORK/gen" --size small --seed "$k" --quiet
  mkdir -p "$WORK/in/$c"
  mv "$WORK/gen/phantom_D.nii.gz" "$WORK/in/$c/${c}_D.nii.gz"
done

echo "one --batch process, --threads $CORES"
t0=$(now)
"$NEPHRO3D" --batch "$WORK/in" "$WORK/one" --models "$MODELS" --device cpu --threads "$CORES" --quiet
t1=$(now)
"$NEPHRO3D" batch-summary --quiet "$WORK/one"

per=$(( CORES / SHARDS )); [ "$per" -ge 1 ] || per=1
echo "$SHARDS shards at once, --threads $per each"
pids=()
t2=$(now)
for i in $(seq 0 $((SHARDS - 1))); do
  "$NEPHRO3D" --batch "$WORK/in" "$WORK/sharded" --shard "$i/$SHARDS" --models "$MODELS" --device cpu --threads "$per" \
    >"$WORK/shard-$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t3=$(now)
"$NEPHRO3D" batch-summary --quiet "$WORK/sharded"
# Each case done by exactly one shard, and its masks do not depend on how the batch was split.
for k in $(seq 1 "$CASES"); do
  c=$(printf 'case%02d' "$k")
  [ "$(cat "$WORK"/shard-*.log | grep -c "^$c: done$")" = 1 ] || { echo "$c not done exactly once"; exit 1; }
  for m in ${MODELS//,/ }; do
    cmp -s <(zcat "$WORK/one/$c/$m.nii.gz") <(zcat "$WORK/sharded/$c/$m.nii.gz") || { echo "$c/$m differs between the runs"; exit 1; }
  done
done

awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$CASES" -v s="$SHARDS" -v cores="$CORES" -v m="$MODELS" 'BEGIN {
  one = b - a; sh = d - c;
  printf "\n%d small phantom cases (128x128x96, delayed phase), model %s, %d cores, load %s\n", n, m, cores, "'"$(cut -d' ' -f1-3 /proc/loadavg)"'";
  printf "%-28s %10s %14s\n", "", "wall (s)", "cases/min";
  printf "%-28s %10.1f %14.2f\n", "one --batch", one, 60 * n / one;
  printf "%-28s %10.1f %14.2f\n", s " shards concurrently", sh, 60 * n / sh;
  printf "speed-up %.2fx; every case done exactly once, masks identical\n", one / sh;
}'
