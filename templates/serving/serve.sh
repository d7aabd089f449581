#!/usr/bin/env bash
# ENTRYPOINT of every serving image: the engine on 127.0.0.1:8081 and the gateway (nginx, with the
# nginx.conf build-model rendered beside this script) on :8080.
# If either one exits, the other is stopped and the container exits with that status, so the
# orchestrator (SageMaker, ECS, systemd) restarts a whole, healthy pair.
# SIGHUP (EC2's refresh-keys.sh: docker kill --signal HUP) re-reads the API keys and reloads nginx: new
# requests get the new keys, streams in flight finish on the old workers.
set -u

if [ -z "${MODEL_DEPLOY_ENGINE_CMD:-}" ]; then
  echo "serve.sh: MODEL_DEPLOY_ENGINE_CMD is not set (the Dockerfile sets it per engine)" >&2
  exit 64
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NGINX="${MODEL_DEPLOY_NGINX:-/opt/model-deploy/nginx/sbin/nginx}"
NGINX_CONF="${MODEL_DEPLOY_NGINX_CONF:-$HERE/nginx.conf}"
RUN_DIR="${MODEL_DEPLOY_RUN_DIR:-/tmp/model-deploy}"
MODEL_DIR="${MODEL_DEPLOY_MODEL_DIR:-/opt/ml/model}"

if [ ! -x "$NGINX" ]; then
  if command -v nginx > /dev/null 2>&1; then
    NGINX="$(command -v nginx)"
  else
    echo "serve.sh: nginx is not in this image ($NGINX, nor nginx on the PATH): a custom Dockerfile adds the gateway build stage (docs/deploying.md, \"The serving gateway\")" >&2
    exit 69
  fi
fi
if [ ! -r "$NGINX_CONF" ]; then
  echo "serve.sh: the gateway configuration $NGINX_CONF is missing (build-model renders it into model-deploy/serving/)" >&2
  exit 66
fi

# The keys nginx accepts, as lines of its key map (api-keys.conf in the run folder): the ECS task's
# MODEL_DEPLOY_API_KEY_A/_B, or EC2's key file (written by refresh-keys.sh in the same form), or, with no key
# configured at all (SageMaker), a default that lets every request through. A missing key file fails closed.
# Keys are letters and digits (the rotation makes them so): anything else is refused, never written.
write_keys() {
  local out="$RUN_DIR/api-keys.conf" tmp key
  tmp="$(umask 077 && mktemp "$RUN_DIR/.api-keys.XXXXXX")" || return 1
  {
    echo "# written by serve.sh: the keys the gateway accepts"
    if [ -z "${MODEL_DEPLOY_API_KEY_A:-}${MODEL_DEPLOY_API_KEY_B:-}${MODEL_DEPLOY_API_KEY_FILE:-}" ]; then
      echo "default 1;"
    else
      echo "default 0;"
    fi
    for key in "${MODEL_DEPLOY_API_KEY_A:-}" "${MODEL_DEPLOY_API_KEY_B:-}"; do
      [ -n "$key" ] || continue
      if [[ ! "$key" =~ ^[A-Za-z0-9]{16,512}$ ]]; then
        echo "serve.sh: MODEL_DEPLOY_API_KEY_A/_B must be 16-512 letters and digits; one is not (not written)" >&2
        rm -f "$tmp"
        return 1
      fi
      printf '"~^%s$" 1;\n' "$key"
    done
    if [ -n "${MODEL_DEPLOY_API_KEY_FILE:-}" ]; then
      if [[ ! "$MODEL_DEPLOY_API_KEY_FILE" =~ ^/[A-Za-z0-9._/-]+$ ]]; then
        echo "serve.sh: MODEL_DEPLOY_API_KEY_FILE must be an absolute path of letters, digits and . _ / -" >&2
        rm -f "$tmp"
        return 1
      fi
      if [ -r "$MODEL_DEPLOY_API_KEY_FILE" ]; then
        echo "include $MODEL_DEPLOY_API_KEY_FILE;"
      else
        echo "serve.sh: the key file $MODEL_DEPLOY_API_KEY_FILE is missing: no key is accepted until it exists (then SIGHUP)" >&2
      fi
    fi
  } > "$tmp"
  mv -f "$tmp" "$out"
}

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

mkdir -p "$RUN_DIR/tmp" || exit 73
# Run as root, nginx's workers drop to nobody: they pass through here to their temporary files (large request
# bodies). They list nothing, and api-keys.conf stays readable by the master only.
chmod 0711 "$RUN_DIR" "$RUN_DIR/tmp" || exit 73
cp "$NGINX_CONF" "$RUN_DIR/nginx.conf" || exit 73
write_keys || exit 78

engine=""
gateway=""
stop() {
  # Both at once: with the engine stopping, a graceful drain of the gateway would serve nothing.
  kill -TERM $engine $gateway 2>/dev/null
}
reload() {
  # A key that cannot be written keeps the keys nginx has; a configuration nginx refuses keeps the old one.
  if [ -n "$gateway" ] && write_keys; then kill -HUP "$gateway" 2>/dev/null; fi
}
# Set before anything starts: a HUP or TERM that comes early is handled, not fatal to this script alone.
trap 'stop; wait; exit 143' TERM INT
trap reload HUP

bash -c "exec ${MODEL_DEPLOY_ENGINE_CMD}" &
engine=$!
# -p: pid file, temporary files and api-keys.conf are in the run folder (the image may be read-only).
"$NGINX" -p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" &
gateway=$!

# wait -n returns when the first of the two exits, or when a trapped signal (HUP) arrives: then both
# still run and it waits again.
while :; do
  wait -n "$engine" "$gateway"
  status=$?
  if kill -0 "$engine" 2>/dev/null && kill -0 "$gateway" 2>/dev/null; then continue; fi
  break
done
if kill -0 "$engine" 2>/dev/null; then
  echo "serve.sh: the gateway exited with status $status; stopping the engine" >&2
else
  echo "serve.sh: the engine exited with status $status; stopping the gateway" >&2
fi
stop
wait
exit "$status"
