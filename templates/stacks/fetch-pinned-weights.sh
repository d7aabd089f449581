# Included by ec2.yaml (the host's boot) and ecs.yaml (the model-sync container) where a line reads
# "# model-deploy:include fetch-pinned-weights.sh"; the renderer escapes it for !Sub (${x} → ${!x}).
fetch_pinned_weights() {
  # A promoted, content-addressed location: exactly the versions its manifest lists, sizes and SHA-256 checked.
  local url="$1" dir="$2" bucket key prefix version sha size name
  bucket="${url#s3://}"; bucket="${bucket%%/*}"; key="${url#s3://*/}"; prefix="${key%/*}/"
  aws s3api get-object --bucket "$bucket" --key "${prefix}model-deploy-weights.tsv" "$dir/model-deploy-weights.tsv" > /dev/null
  while IFS=$'\t' read -r version sha size name; do
    case "$version" in '#'* | '') continue ;; esac
    case "$name" in '' | /* | *..*) echo "model-deploy: refusing weights manifest entry '$name'" >&2; return 1 ;; esac
    mkdir -p "$(dirname "$dir/$name")"
    aws s3api get-object --bucket "$bucket" --key "$prefix$name" --version-id "$version" "$dir/$name" > /dev/null
    [ "$(stat -c %s "$dir/$name")" = "$size" ] || { echo "model-deploy: $name is not $size bytes" >&2; return 1; }
    [ "$sha" = - ] || echo "$sha  $dir/$name" | sha256sum -c --quiet - || { echo "model-deploy: $name does not match its SHA-256" >&2; return 1; }
  done < "$dir/model-deploy-weights.tsv"
}
