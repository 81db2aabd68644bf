#!/usr/bin/env bash
# Starts nats-server -js on a free loopback port and runs kv_revisions_test against it.
# Usage: kv_revisions_test.sh PATH/TO/kv_revisions_test. Exit 77 (skip) without nats-server.
set -u
TEST=$1
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
NATS_SERVER=$(find_nats_server) || { echo "SKIP: nats-server is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
T=$(mktemp -d /tmp/nephro3d-kv-test.XXXXXX)
trap 'stop_all; rm -rf "$T"' EXIT
NPORT=$(free_port)
start_nats "$T/nats" "$NPORT" "$T/nats.log" || { echo "SKIP: nats-server -js did not start: $(tail -n 3 "$T/nats.log")"; exit 77; }
timeout 120 "$TEST" "nats://127.0.0.1:$NPORT" "$T/spool"
