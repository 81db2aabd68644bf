# Shared by the NATS workers test and benchmark: start and stop nats-server,
# `serve --queue` and workers on loopback, submit jobs, wait for them.
# Every process started here is recorded and stopped by PID.
PIDS=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT SECONDS
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
find_nats_server() { command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; }; }
start_nats() {  # STOREDIR PORT LOG -> NATS_PID
  "$NATS_SERVER" -js -sd "$1" -a 127.0.0.1 -p "$2" >>"$3" 2>&1 &
  NATS_PID=$!
  PIDS+=("$NATS_PID")
  wait_port "$2" 15
}
stop_pid() {  # PID [SIGNAL]
  local pid=$1 sig=${2:-TERM}
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0
}
stop_all() { local p; for p in "${PIDS[@]}"; do stop_pid "$p"; done; }
start_serve() {  # SPOOL DATA KEYS NATSURL LOG [extra...] -> SERVE_PID SERVE_PORT
  local spool=$1 data=$2 keys=$3 url=$4 log=$5; shift 5
  "$ENGINE" serve --listen 127.0.0.1:0 --api-keys "$keys" --spool "$spool" --data-root "$data" --queue "$url" "$@" >"$log" 2>&1 &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  SERVE_PORT=
  for _ in $(seq 1 300); do
    SERVE_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -1)
    [ -n "$SERVE_PORT" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
start_worker() {  # NAME SPOOL NATSURL LOG [extra...] -> appends to PIDS, WORKER_PID
  local name=$1 spool=$2 url=$3 log=$4; shift 4
  "$ENGINE" worker --queue "$url" --storage-root "$spool" --name "$name" --threads 1 "$@" >"$log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
}
api() { curl -sS --max-time 30 -H "Authorization: Bearer $KEY" "$@"; }
submit_mask() {  # PHANTOM_DIR -> prints the job id
  api -F "mask=@$1/phantom_labels.nii.gz" -F "labels=@$1/phantom_labels.json" \
    "http://127.0.0.1:$SERVE_PORT/smoothing/base?formats=obj" | jq -r .id
}
submit_json() {  # BODY -> prints the job id
  api -H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$SERVE_PORT/v1/jobs" | jq -r .id
}
job_state() { api "http://127.0.0.1:$SERVE_PORT/v1/jobs/$1" | jq -r .state; }
wait_final() {  # SECONDS ids... : 0 when every job is final in time
  local end=$((SECONDS + $1)) id s pending; shift
  while ((SECONDS < end)); do
    pending=0
    for id in "$@"; do
      s=$(job_state "$id")
      case "$s" in succeeded|failed|cancelled) ;; *) pending=1; break ;; esac
    done
    ((pending == 0)) && return 0
    sleep 0.5
  done
  return 1
}
