#!/usr/bin/env bash
# NATS JetStream workers under faults: nats-server -js on a free loopback port with
# its own store, `nephro3d serve --queue` and three `nephro3d worker`s sharing the
# spool folder. Submits 12 mask-only jobs (/smoothing/base on the phantom labels),
# 2 model jobs (demo vessel) and one poison job, kills a busy worker with kill -9,
# restarts nats-server mid-run, then checks: every good job succeeded, each of its
# stages was committed exactly once and its artifacts download whole (sha256 and
# size as listed); the poison job failed after MaxDeliver=3 deliveries and sits in
# the dead-letter stream; nothing is left in the work queue.
# Usage: nats_workers_test.sh PATH/TO/nephro3d-engine. Exit 77 (skip) without nats-server.
set -u
ENGINE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
NATS_SERVER=$(find_nats_server) || { echo "SKIP: nats-server is not installed"; exit 77; }
for tool in curl jq python3 sha256sum; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/nephro3d-nats-test.XXXXXX)
FAILED=0
cleanup() { stop_all; if ((FAILED == 0)) && [ -z "${KEEP_LOGS:-}" ]; then rm -rf "$T"; else echo "logs kept in $T"; fi; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; FAILED=1; }
die() { fail "$*"; for f in "$T"/*.log; do echo "== $f"; tail -n 30 "$f"; done; exit 1; }

NPORT=$(free_port)
URL=nats://127.0.0.1:$NPORT
mkdir -p "$T/nats" "$T/data" "$T/spool"
start_nats "$T/nats" "$NPORT" "$T/nats.log" || { echo "SKIP: nats-server -js did not start on 127.0.0.1:$NPORT: $(tail -n 3 "$T/nats.log")"; exit 77; }

"$ENGINE" phantom --out "$T/data/ph" -q || die "phantom"
cp "$T/data/ph/phantom_labels.nii.gz" "$T/data/poison_labels.nii.gz"
KEY=nats-test-key
echo "$KEY" | "$ENGINE" serve --hash-key --key-name test >"$T/keys" || die "hash-key"
start_serve "$T/spool" "$T/data" "$T/keys" "$URL" "$T/serve.log" --ack-wait 5 --max-deliver 3 || die "serve --queue did not start"
for w in 1 2 3; do
  NEPHRO3D_WORKER_FAIL_INPUTS=poison start_worker "w$w" "$T/spool" "$URL" "$T/w$w.log"
  WPID[$w]=$WORKER_PID
done

GOOD=()
for i in 1 2; do
  GOOD+=("$(submit_json '{"inputs": {"A": "ph/phantom_A.nii.gz", "P": "ph/phantom_P.nii.gz"}, "models": ["vessel"]}')")
done
for i in $(seq 1 12); do GOOD+=("$(submit_mask "$T/data/ph")"); done
POISON=$(submit_json '{"inputs": {"mask": "poison_labels.nii.gz"}, "mesh": {"formats": ["obj"]}}')
for id in "${GOOD[@]}" "$POISON"; do [[ "$id" =~ ^[0-9a-f]{32}$ ]] || die "a submission returned no job id: '$id'"; done
date +%T; echo "submitted ${#GOOD[@]} good jobs and poison job $POISON"

# kill -9 a worker in the middle of a mesh stage (not the poison job's, whose last delivery it could swallow).
VICTIM=0
end=$((SECONDS + 60))
while ((SECONDS < end && VICTIM == 0)); do
  for w in 1 2 3; do
    last=$(grep -E ": (start|done|failed|already|dead)" "$T/w$w.log" | tail -n 1)
    if [[ "$last" == *": start "*"-mesh)"* && "$last" != *"$POISON"* ]]; then VICTIM=$w; break; fi
  done
  sleep 0.05
done
((VICTIM > 0)) || die "no worker was seen busy"
BUSY=$(grep ": start " "$T/w$VICTIM.log" | tail -n 1 | sed 's/.*: start \([0-9a-f]*\) stage \([0-9]*\).*/\1 \2/')
stop_pid "${WPID[$VICTIM]}" KILL
echo "killed worker w$VICTIM (kill -9) while it ran: $BUSY"

# Restart nats-server once, mid-run, on the same port and store.
sleep 1
stop_pid "$NATS_PID" TERM
start_nats "$T/nats" "$NPORT" "$T/nats.log" || die "nats-server did not restart"
date +%T; echo "restarted nats-server"

wait_final 150 "${GOOD[@]}" "$POISON" || die "jobs not final within 150 s"

# Every good job succeeded; each of its stages was committed once; artifacts are whole.
for id in "${GOOD[@]}"; do
  job=$(api "http://127.0.0.1:$SERVE_PORT/v1/jobs/$id")
  [ "$(jq -r .state <<<"$job")" = succeeded ] || { fail "job $id: $(jq -c '{state,error}' <<<"$job")"; continue; }
  nstages=$(ls "$T/spool/jobs/$id/stages" | wc -l)
  for ((s = 0; s < nstages; s++)); do
    n=$(cat "$T"/w*.log | grep -c ": done $id stage $s ")
    [ "$n" = 1 ] || fail "job $id stage $s committed $n times"
  done
  [ ! -d "$T/spool/jobs/$id/work" ] || [ -z "$(ls -A "$T/spool/jobs/$id/work")" ] || fail "job $id has attempt folders left"
  nart=$(jq '.artifacts | length' <<<"$job")
  ((nart > 0)) || fail "job $id lists no artifacts"
  # Every listed artifact is whole on the shared storage; the first one also downloads whole.
  jq -r '.artifacts[] | [.name, .sha256, (.bytes|tostring)] | @tsv' <<<"$job" | python3 -c '
import hashlib, glob, os, sys
root, bad = sys.argv[1], 0
for line in sys.stdin:
    name, sha, size = line.rstrip("\n").split("\t")
    files = glob.glob(os.path.join(root, "stages", "*", name))
    ok = len(files) == 1 and os.path.getsize(files[0]) == int(size) and hashlib.sha256(open(files[0], "rb").read()).hexdigest() == sha
    if not ok:
        print("artifact differs from its listing:", name); bad = 1
sys.exit(bad)' "$T/spool/jobs/$id" || fail "job $id: artifacts on the storage root differ from the listing"
  IFS=$'\t' read -r name sha bytes < <(jq -r '.artifacts[0] | [.name, .sha256, (.bytes|tostring)] | @tsv' <<<"$job")
  api -o "$T/artifact" "http://127.0.0.1:$SERVE_PORT/v1/jobs/$id/artifacts/$name" || fail "download $id/$name"
  got=$(sha256sum "$T/artifact" | cut -d' ' -f1)
  [ "$got" = "$sha" ] && [ "$(stat -c %s "$T/artifact")" = "$bytes" ] || fail "artifact $id/$name downloads differently from its listing"
done
date +%T; echo "checked ${#GOOD[@]} good jobs and their artifacts"

# The killed worker's stage ran again elsewhere.
set -- $BUSY
grep -q ": done $1 stage $2 " "$T"/w*.log || fail "the killed worker's stage ($BUSY) was not run again"

# The poison job: failed with the stage's error after MaxDeliver deliveries, dead-lettered, not retried by the server.
pj=$(api "http://127.0.0.1:$SERVE_PORT/v1/jobs/$POISON")
[ "$(jq -r .state <<<"$pj")" = failed ] || fail "poison job: $(jq -c '{state,error}' <<<"$pj")"
jq -r .error <<<"$pj" | grep -q "injected transient failure" || fail "poison job error: $(jq -r .error <<<"$pj")"
starts=$(cat "$T"/w*.log | grep -c ": start $POISON stage 0 ")
[ "$starts" = 3 ] || fail "poison stage started $starts times, expected 3 (MaxDeliver)"
cat "$T"/w*.log | grep -q "dead-lettered $POISON stage 0 .* after 3 deliveries" || fail "poison job not dead-lettered"

# Nothing pending: the work queue is empty, nothing unacked, one dead letter.
status=$("$ENGINE" worker --queue "$URL" --status) || fail "worker --status"
echo "queue: $status"
[ "$(jq .messages <<<"$status")" = 0 ] || fail "stage messages left in the stream"
[ "$(jq .consumer_pending <<<"$status")" = 0 ] || fail "messages pending on the consumer"
[ "$(jq .ack_pending <<<"$status")" = 0 ] || fail "messages delivered but unacked"
[ "$(jq .dead_letters <<<"$status")" = 1 ] || fail "dead letters: $(jq .dead_letters <<<"$status"), expected 1"

for w in 1 2 3; do echo "w$w: $(grep -c ': done ' "$T/w$w.log") stage(s)"; done
if ((FAILED)); then for f in "$T"/*.log; do echo "== $f"; tail -n 20 "$f"; done; exit 1; fi
echo "PASS"
