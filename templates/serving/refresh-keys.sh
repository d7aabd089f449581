#!/usr/bin/env bash
# EC2: writes the keys the serving side accepts (the secret's MD_SERVE_A and MD_SERVE_B versions) into
# the gateway's key file, atomically (write a temp file in the same folder, then rename), then asks the
# gateway to reload (nginx reads the file when it loads its configuration; streams in flight finish on the
# old workers). Nothing is renamed or reloaded when the keys did not change. Run by a systemd timer and by
# rotate-key through SSM. Never prints a key.
#
# The file is part of nginx's key map: one line per key, "~^KEY$" 1; (a case-sensitive exact match). Keys
# are letters and digits (the rotation makes them so); a version with anything else leaves the old file.
#
# Settings come from the environment or /etc/model-deploy/api-key.env (KEY=VALUE lines):
#   MODEL_DEPLOY_API_KEY_SECRET_ARN  the secret (required)
#   MODEL_DEPLOY_API_KEY_FILE        the key file (default /etc/model-deploy/keys/api-keys.conf); mount its
#                                    FOLDER into the container: a bind-mounted file keeps its old inode after a rename
#   MODEL_DEPLOY_GATEWAY_RELOAD      the command that makes the gateway reload (EC2: docker kill --signal HUP
#                                    model-deploy; serve.sh passes the signal on to nginx); empty: none
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
FILE="${MODEL_DEPLOY_API_KEY_FILE:-/etc/model-deploy/keys/api-keys.conf}"
RELOAD="${MODEL_DEPLOY_GATEWAY_RELOAD:-}"
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
import json, re, sys
keys = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    key = json.loads(line).get("apiKey")
    # Letters and digits only: nothing in a key can end the map line or change the pattern.
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9]{32,512}", key):
        sys.exit("refresh-keys.sh: a version has no usable apiKey (32-512 letters and digits)")
    if key not in keys:
        keys.append(key)
with open(sys.argv[1], "w") as out:
    out.write("# written by refresh-keys.sh: the keys the gateway accepts\n")
    for key in keys:
        out.write("\"~^%s$\" 1;\n" % key)
' "$tmp"

if [ -f "$FILE" ] && cmp -s "$tmp" "$FILE"; then
  echo "refresh-keys.sh: $FILE is up to date ($(date -u +%FT%TZ))"
  exit 0
fi
chmod "$MODE" "$tmp"
if [ -n "$OWNER" ]; then chown "$OWNER" "$tmp"; fi
mv -f "$tmp" "$FILE"
trap - EXIT
echo "refresh-keys.sh: $FILE updated from $ARN ($(date -u +%FT%TZ))"
# The container may not run yet (the first refresh comes before it starts): then it reads the file at start.
if [ -n "$RELOAD" ]; then
  if bash -c "$RELOAD" > /dev/null 2>&1; then
    echo "refresh-keys.sh: the gateway reloads its keys"
  else
    echo "refresh-keys.sh: the gateway could not be asked to reload (not running?): it reads the keys when it starts" >&2
  fi
fi
