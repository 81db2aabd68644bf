#!/usr/bin/env bash
# NATS JetStream queue, beyond the load test: a stage whose worker is killed on
# every delivery, the last one included, ends dead-lettered and its job failed;
# a second `serve --queue` on the same NATS and shared folder answers for the
# first one's jobs (state, list, artifacts) and cancels them through the shared
# record; workers started with --models only take those models' stages; when s1
# is killed with a job in flight, a server started with --adopt s1 finishes it.
# nats-server -js on a free loopback port with its own store, `nephro3d serve
# --queue` (ack wait 3 s, max deliver 2) and workers sharing the spool folder.
# Usage: nats_queue_test.sh PATH/TO/nephro3d-engine. Exit 77 (skip) without nats-server.
set -u
ENGINE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
NATS_SERVER=$(find_nats_server) || { echo "SKIP: nats-server is not installed"; exit 77; }
for tool in curl jq python3 sha256sum; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/nephro3d-nats-queue.XXXXXX)
FAILED=0
cleanup() { stop_all; if ((FAILED == 0)) && [ -z "${KEEP_LOGS:-}" ]; then rm -rf "$T"; else echo "logs kept in $T"; fi; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; FAILED=1; }
die() { fail "$*"; for f in "$T"/*.log; do echo "== $f"; tail -n 30 "$f"; done; exit 1; }
wait_log() {  # FILE PATTERN SECONDS
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

NPORT=$(free_port)
URL=nats://127.0.0.1:$NPORT
mkdir -p "$T/nats" "$T/data" "$T/spool"
start_nats "$T/nats" "$NPORT" "$T/nats.log" || { echo "SKIP: nats-server -js did not start on 127.0.0.1:$NPORT: $(tail -n 3 "$T/nats.log")"; exit 77; }

"$ENGINE" phantom --out "$T/data/ph" -q || die "phantom"
cp "$T/data/ph/phantom_labels.nii.gz" "$T/data/hang_labels.nii.gz"
KEY=nats-queue-key
echo "$KEY" | "$ENGINE" serve --hash-key --key-name test >"$T/keys" || die "hash-key"
start_serve "$T/spool" "$T/data" "$T/keys" "$URL" "$T/serve.log" --ack-wait 3 --max-deliver 2 --name s1 || die "serve --queue did not start"
S1=$SERVE_PORT
S1_PID=$SERVE_PID

# 1. Max deliveries: the worker running the stage is killed on each of its deliveries.
export NEPHRO3D_WORKER_HANG_INPUTS=hang_labels
start_worker h1 "$T/spool" "$URL" "$T/h1.log"
HANG=$(submit_json '{"inputs": {"mask": "hang_labels.nii.gz"}, "mesh": {"formats": ["obj"]}}')
[[ "$HANG" =~ ^[0-9a-f]{32}$ ]] || die "the hang job was not accepted: '$HANG'"
for k in 1 2; do
  wait_log "$T/h$k.log" "start $HANG stage 0 .*(delivery $k)" 60 || die "delivery $k of the hang job was not seen"
  stop_pid "$WORKER_PID" KILL
  echo "killed worker h$k (kill -9) during delivery $k of $HANG"
  start_worker "h$((k + 1))" "$T/spool" "$URL" "$T/h$((k + 1)).log"
done
wait_final 60 "$HANG" || die "the hang job is not final 60 s after its last delivery was killed"
hj=$(api "http://127.0.0.1:$SERVE_PORT/v1/jobs/$HANG")
[ "$(jq -r .state <<<"$hj")" = failed ] || fail "hang job: $(jq -c '{state,error}' <<<"$hj")"
jq -r .error <<<"$hj" | grep -q "delivered 2 times without finishing" || fail "hang job error: $(jq -r .error <<<"$hj")"
grep -q "dead-lettered $HANG stage 0" "$T/serve.log" || fail "the server did not dead-letter the hang job's stage"
starts=$(cat "$T"/h*.log | grep -c ": start $HANG stage 0 ")
[ "$starts" = 2 ] || fail "the hang stage started $starts times, expected 2 (MaxDeliver)"
echo "hang job: $(jq -r .error <<<"$hj")"

# 2. A second server on the same queue and shared folder.
start_serve "$T/spool" "$T/data" "$T/keys" "$URL" "$T/serve2.log" --name s2 || die "the second serve --queue did not start"
S2=$SERVE_PORT
SERVE_PORT=$S1
# A job that hangs on its worker (h3), cancelled through the server that does not run it.
CANCEL=$(submit_json '{"inputs": {"mask": "hang_labels.nii.gz"}, "mesh": {"formats": ["obj"]}}')
wait_log "$T/h3.log" "start $CANCEL stage 0" 60 || die "the job to cancel did not start"
code=$(api -o "$T/cancel.json" -w '%{http_code}' -X DELETE "http://127.0.0.1:$S2/v1/jobs/$CANCEL")
[ "$code" = 200 ] && [ "$(jq -r .state "$T/cancel.json")" = cancelled ] || fail "cancel through s2: HTTP $code $(cat "$T/cancel.json")"
end=$((SECONDS + 15))
until curl -s "http://127.0.0.1:$S1/metrics" -H "Authorization: Bearer $KEY" | grep -q '^nephro3d_queue_pending 0$'; do
  ((SECONDS < end)) || { fail "s1 still runs the job cancelled through s2"; break; }
  sleep 0.2
done
SERVE_PORT=$S1; [ "$(job_state "$CANCEL")" = cancelled ] || fail "s1 shows the cancelled job as $(job_state "$CANCEL")"
stop_pid "$WORKER_PID" KILL  # the hung stage is redelivered to the next worker and finishes there unused
unset NEPHRO3D_WORKER_HANG_INPUTS
start_worker g1 "$T/spool" "$URL" "$T/g1.log"
G1=$WORKER_PID

# A job submitted through s1, followed through s2 only.
SERVE_PORT=$S1
GOOD=$(submit_mask "$T/data/ph")
SERVE_PORT=$S2
wait_final 60 "$GOOD" || die "the good job is not final (seen through s2)"
[ "$(job_state "$GOOD")" = succeeded ] || fail "good job through s2: $(job_state "$GOOD")"
j1=$(api "http://127.0.0.1:$S1/v1/jobs/$GOOD" | jq -c '{state, artifacts}')
j2=$(api "http://127.0.0.1:$S2/v1/jobs/$GOOD" | jq -c '{state, artifacts}')
[ "$j1" = "$j2" ] || fail "s1 and s2 show the job differently: $j1 / $j2"
IFS=$'\t' read -r name sha < <(jq -r '.artifacts[0] | [.name, .sha256] | @tsv' <<<"$j2")
api -o "$T/artifact" "http://127.0.0.1:$S2/v1/jobs/$GOOD/artifacts/$name" || fail "download through s2"
[ "$(sha256sum "$T/artifact" | cut -d' ' -f1)" = "$sha" ] || fail "artifact $name through s2 differs from its listing"
listed=$(api "http://127.0.0.1:$S2/v1/jobs" | jq -r '.jobs[].id' | sort | tr '\n' ' ')
for id in "$HANG" "$CANCEL" "$GOOD"; do [[ "$listed" == *"$id"* ]] || fail "s2 does not list job $id"; done
[ "$(job_state "$CANCEL")" = cancelled ] || fail "the cancelled job became $(job_state "$CANCEL") (a lost update)"
[ ! -e "$T/spool/jobs/$GOOD/job.json" ] || fail "job.json written to the spool with --queue (the record lives in the bucket)"
echo "s2 follows s1's jobs: $listed"

# 3. Model affinity: a vessel-only and a ureter-only worker; the any-model worker stops.
stop_pid "$G1" TERM
start_worker wv "$T/spool" "$URL" "$T/wv.log" --models vessel
start_worker wu "$T/spool" "$URL" "$T/wu.log" --models ureter
SERVE_PORT=$S1
MODEL_JOBS=()
VESSEL_JOB='{"inputs": {"A": "ph/phantom_A.nii.gz", "P": "ph/phantom_P.nii.gz"}, "models": ["vessel"]}'
URETER_JOB='{"inputs": {"D": "ph/phantom_D.nii.gz"}, "models": ["ureter"]}'
for body in "$VESSEL_JOB" "$URETER_JOB" "$VESSEL_JOB" "$URETER_JOB"; do MODEL_JOBS+=("$(submit_json "$body")"); done
for id in "${MODEL_JOBS[@]}"; do [[ "$id" =~ ^[0-9a-f]{32}$ ]] || die "a model job was not accepted: '$id'"; done
wait_final 180 "${MODEL_JOBS[@]}" || die "model jobs not final within 180 s"
for id in "${MODEL_JOBS[@]}"; do [ "$(job_state "$id")" = succeeded ] || fail "model job $id: $(job_state "$id")"; done
nv=$(grep -c ": start .*-model-vessel)" "$T/wv.log"); nu=$(grep -c ": start .*-model-ureter)" "$T/wu.log")
[ "$nv" = 2 ] && [ "$nu" = 2 ] || fail "model stages: vessel worker ran $nv vessel stages, ureter worker $nu ureter stages (expected 2 each)"
grep -q "model-ureter)" "$T/wv.log" && fail "the --models vessel worker ran a ureter stage"
grep -q "model-vessel)" "$T/wu.log" && fail "the --models ureter worker ran a vessel stage"
echo "affinity: wv ran $nv vessel stages, wu ran $nu ureter stages, none of the other model"

# 4. s1 dies with a job in flight (its ureter stage waits for a ureter worker); s3 adopts s1's jobs.
stop_pid "$WORKER_PID" TERM  # wu
SERVE_PORT=$S1
ORPHAN=$(submit_json "$URETER_JOB")
[[ "$ORPHAN" =~ ^[0-9a-f]{32}$ ]] || die "the ureter job was not accepted: '$ORPHAN'"
end=$((SECONDS + 30))
until [ "$(job_state "$ORPHAN")" = running ]; do ((SECONDS < end)) || die "the ureter job did not start"; sleep 0.2; done
stop_pid "$S1_PID" KILL
start_serve "$T/spool" "$T/data" "$T/keys" "$URL" "$T/serve3.log" --name s3 --adopt s1 || die "serve --adopt s1 did not start"
grep -q "1 unfinished job(s) resumed" "$T/serve3.log" || fail "s3 did not resume s1's unfinished job: $(head -n 1 "$T/serve3.log")"
start_worker wu2 "$T/spool" "$URL" "$T/wu2.log" --models ureter
wait_final 180 "$ORPHAN" || die "the adopted job is not final within 180 s"
[ "$(job_state "$ORPHAN")" = succeeded ] || fail "the adopted job: $(job_state "$ORPHAN")"
[ "$(grep -c ": start $ORPHAN stage 0 " "$T/wu2.log")" = 1 ] || fail "the adopted job's model stage did not run exactly once"
echo "s1 killed with job $ORPHAN in flight; s3 (--adopt s1) finished it"

status=$("$ENGINE" worker --queue "$URL" --status) || fail "worker --status"
echo "queue: $status"
[ "$(jq .messages <<<"$status")" = 0 ] || fail "stage messages left in the stream"
[ "$(jq .consumer_pending <<<"$status")" = 0 ] || fail "messages pending on the consumers"
[ "$(jq .ack_pending <<<"$status")" = 0 ] || fail "messages delivered but unacked"
[ "$(jq .dead_letters <<<"$status")" = 1 ] || fail "dead letters: $(jq .dead_letters <<<"$status"), expected 1"
curl -s "http://127.0.0.1:$S2/metrics" -H "Authorization: Bearer $KEY" | grep -q '^nephro3d_queue_dead_letters 1$' || fail "s2 /metrics does not show the dead letter"

if ((FAILED)); then for f in "$T"/*.log; do echo "== $f"; tail -n 20 "$f"; done; exit 1; fi
echo "PASS"
