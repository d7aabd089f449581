#!/usr/bin/env bash
# EC2: writes the keys the serving side accepts (the secret's MD_SERVE_A and MD_SERVE_B versions) into
# the gateway's key file, atomically (write a temp file in the same folder, then rename). Run by a
# systemd timer and by rotate-key through SSM. Never prints a key.
#
# Settings come from the environment or /etc/model-deploy/api-key.env (KEY=VALUE lines):
#   MODEL_DEPLOY_API_KEY_SECRET_ARN  the secret (required)
#   MODEL_DEPLOY_API_KEY_FILE        the key file (default /etc/model-deploy/keys/api-keys.json); mount its
#                                    FOLDER into the container: a bind-mounted file keeps its old inode after a rename
#   MODEL_DEPLOY_API_KEY_FILE_MODE   file mode (default 0600)
#   MODEL_DEPLOY_API_KEY_FILE_OWNER  owner (uid) of the file: the user the container runs as (default: unchanged)
#   AWS_REGION                       default: the secret ARN's region
set -euo pipefail

CONFIG="${MODEL_DEPLOY_KEY_CONFIG:-/etc/model-deploy/api-key.env}"
if [ -r "$CONFIG" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$CONFIG"
  set +a
fi
ARN="${MODEL_DEPLOY_API_KEY_SECRET_ARN:?MODEL_DEPLOY_API_KEY_SECRET_ARN is not set (in $CONFIG or the environment)}"
FILE="${MODEL_DEPLOY_API_KEY_FILE:-/etc/model-deploy/keys/api-keys.json}"
MODE="${MODEL_DEPLOY_API_KEY_FILE_MODE:-0600}"
OWNER="${MODEL_DEPLOY_API_KEY_FILE_OWNER:-}"
REGION="${AWS_REGION:-$(echo "$ARN" | cut -d: -f4)}"
AWS="${MODEL_DEPLOY_AWS_CLI:-aws}"

dir="$(dirname "$FILE")"
mkdir -p "$dir"
umask 077
tmp="$(mktemp "$dir/.api-keys.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

# Values stay in shell variables and reach python3 through a pipe (printf is a builtin): never on a
# command line or in a log. A failed read stops here and leaves the old file in place.
a="$("$AWS" secretsmanager get-secret-value --region "$REGION" --secret-id "$ARN" --version-stage MD_SERVE_A --query SecretString --output text)"
b="$("$AWS" secretsmanager get-secret-value --region "$REGION" --secret-id "$ARN" --version-stage MD_SERVE_B --query SecretString --output text)"
printf '%s\n%s\n' "$a" "$b" | python3 -c '
import json, sys
keys = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    key = json.loads(line).get("apiKey")
    if not isinstance(key, str) or len(key) < 32:
        sys.exit("refresh-keys.sh: a version has no usable apiKey")
    if key not in keys:
        keys.append(key)
json.dump({"keys": keys}, open(sys.argv[1], "w"))
' "$tmp"

chmod "$MODE" "$tmp"
if [ -n "$OWNER" ]; then chown "$OWNER" "$tmp"; fi
mv -f "$tmp" "$FILE"
trap - EXIT
echo "refresh-keys.sh: $FILE updated from $ARN ($(date -u +%FT%TZ))"
