#!/usr/bin/env bash
# ENTRYPOINT of every serving image: the engine on 127.0.0.1:8081 and the gateway on :8080.
# If either one exits, the other is stopped and the container exits with that status, so the
# orchestrator (SageMaker, ECS, systemd) restarts a whole, healthy pair.
set -u

if [ -z "${MODEL_DEPLOY_ENGINE_CMD:-}" ]; then
  echo "serve.sh: MODEL_DEPLOY_ENGINE_CMD is not set (the Dockerfile sets it per engine)" >&2
  exit 64
fi
GATEWAY="${MODEL_DEPLOY_GATEWAY:-/opt/model-deploy/gateway.py}"

bash -c "exec ${MODEL_DEPLOY_ENGINE_CMD}" &
engine=$!
python3 "$GATEWAY" &
gateway=$!

stop() {
  kill -TERM "$engine" "$gateway" 2>/dev/null
}
trap 'stop; wait; exit 143' TERM INT

# wait -n returns when the first of the two exits.
wait -n "$engine" "$gateway"
status=$?
if kill -0 "$engine" 2>/dev/null; then
  echo "serve.sh: the gateway exited with status $status; stopping the engine" >&2
else
  echo "serve.sh: the engine exited with status $status; stopping the gateway" >&2
fi
stop
wait
exit "$status"
