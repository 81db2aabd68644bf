# A throw-away single-node SLURM cluster for tests and benchmarks, sourced by
# bash scripts (root only): munged with its own key and socket, slurmctld and
# slurmd on free loopback ports, every file in one temporary folder.
#
#   source slurm_local.sh
#   slurm_local_start DIR || skip   # sets SLURM_CONF, SLURM_LOCAL_NODE; 0 when the node is idle
#   ... sbatch / squeue / scontrol ...
#   slurm_local_stop                # cancels jobs, stops the daemons by PID
#
# The node offers the machine's real CPUs and memory and no GPUs (gres).

SLURM_LOCAL_PIDS=()

slurm_local_log() { echo "slurm-local: $*" >&2; }

slurm_local_free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# slurm_local_start DIR: 0 when the cluster is up (node idle), 1 with a message otherwise.
slurm_local_start() {
  local dir=$1
  SLURM_LOCAL_DIR=$dir
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  local cmd
  for cmd in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$cmd" >/dev/null || { slurm_local_log "$cmd not found (install slurm-wlm and munge)"; return 1; }
  done

  # munge: its own key (1024 random bytes, mode 400) and socket.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  local sock="$dir/munge/munge.socket"
  munged --foreground --force --socket="$sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    >"$dir/log/munged.out" 2>&1 &
  SLURM_LOCAL_PIDS+=($!)
  local i
  for i in $(seq 1 50); do
    [ -S "$sock" ] && break
    kill -0 "${SLURM_LOCAL_PIDS[0]}" 2>/dev/null || break
    sleep 0.2
  done
  if [ ! -S "$sock" ]; then
    slurm_local_log "munged did not start: $(tail -n 3 "$dir/log/munged.out" "$dir/log/munged.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi

  local host cpus mem port
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  port=$(slurm_local_free_port) || { slurm_local_log "no free port"; return 1; }
  SLURM_LOCAL_NODE=$host
  cat >"$dir/slurm.conf" <<CONF
ClusterName=nephro3dtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SwitchType=switch/none
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
JobRequeue=1
KillWait=5
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
  SLURM_LOCAL_PIDS+=($!)
  slurmd -D -f "$SLURM_CONF" -N "$host" >"$dir/log/slurmd.out" 2>&1 &
  SLURM_LOCAL_PIDS+=($!)
  for i in $(seq 1 60); do
    if [ "$(sinfo -h -n "$host" -o '%t' 2>/dev/null)" = "idle" ]; then
      slurm_local_log "node $host idle ($cpus CPUs, ${mem} MB), ports $port/$((port + 1)), in $dir"
      return 0
    fi
    for p in "${SLURM_LOCAL_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { i=999; break; }
    done
    [ "$i" = 999 ] && break
    sleep 0.5
  done
  slurm_local_log "the node did not become idle: $(sinfo -h -o '%t %E' 2>&1 | head -n 1);" \
    "slurmctld: $(tail -n 2 "$dir/log/slurmctld.log" "$dir/log/slurmctld.out" 2>/dev/null | tr '\n' ' ');" \
    "slurmd: $(tail -n 2 "$dir/log/slurmd.log" "$dir/log/slurmd.out" 2>/dev/null | tr '\n' ' ')"
  return 1
}

slurm_local_stop() {
  if [ -n "${SLURM_CONF:-}" ] && [ -f "${SLURM_CONF}" ]; then
    scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
    local i
    for i in $(seq 1 20); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  local p
  for ((i = ${#SLURM_LOCAL_PIDS[@]} - 1; i >= 0; i--)); do
    p=${SLURM_LOCAL_PIDS[$i]}
    kill "$p" 2>/dev/null || true
  done
  for p in "${SLURM_LOCAL_PIDS[@]}"; do
    for i in $(seq 1 40); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  SLURM_LOCAL_PIDS=()
}
