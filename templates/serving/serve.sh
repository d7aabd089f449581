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
MODEL_DIR="${MODEL_DEPLOY_MODEL_DIR:-/opt/ml/model}"

# Promoted weights (a content-addressed sha256-… prefix) are checked against the manifest promote-model wrote
# beside them, at every start and on every target (SageMaker loads its S3Prefix itself): every listed file
# with its size and SHA-256, and no file the manifest does not list. A mismatch never starts the engine.
verify_weights() {
  local manifest="$MODEL_DIR/model-deploy-weights.tsv" version sha size name listed
  [[ "${MODEL_DEPLOY_MODEL_DATA_URL:-}" =~ sha256-[0-9a-f]{64}/$ ]] || return 0
  if [ ! -f "$manifest" ]; then
    echo "serve.sh: $MODEL_DEPLOY_MODEL_DATA_URL is a promoted location but $MODEL_DIR has no model-deploy-weights.tsv" >&2
    return 1
  fi
  listed=$(mktemp)
  echo "model-deploy-weights.tsv" > "$listed"
  while IFS=$'\t' read -r version sha size name; do
    case "$version" in '#'* | '') continue ;; esac
    echo "$name" >> "$listed"
    if [ ! -f "$MODEL_DIR/$name" ] || [ "$(stat -c %s "$MODEL_DIR/$name")" != "$size" ]; then
      echo "serve.sh: $name is missing or not $size bytes (the promoted weights changed)" >&2
      return 1
    fi
    if [ "$sha" != - ] && ! echo "$sha  $MODEL_DIR/$name" | sha256sum -c --quiet - > /dev/null 2>&1; then
      echo "serve.sh: $name does not match its promoted SHA-256" >&2
      return 1
    fi
  done < "$manifest"
  local extra
  extra=$(cd "$MODEL_DIR" && find . -type f -printf '%P\n' | sort | comm -23 - <(sort -u "$listed"))
  rm -f "$listed"
  if [ -n "$extra" ]; then
    echo "serve.sh: files the promotion did not write are in $MODEL_DIR: $(echo "$extra" | head -5 | tr '\n' ' ')" >&2
    return 1
  fi
}
if ! verify_weights; then exit 65; fi

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
