#!/usr/bin/env bash
# Runs inside CodeBuild (pre_build): puts the model weights where the image expects them.
#  - not baked: an uncompressed S3 prefix ($WEIGHTS_S3_URI) that SageMaker (ModelDataSource, CompressionType
#    None) or the EC2/ECS start script copies to /opt/ml/model; a marker object beside it lets a rebuild skip it.
#  - baked (BAKE_WEIGHTS=true): ./weights, which the Dockerfile copies into the image.
# HF_TOKEN, when set, comes from Secrets Manager through the buildspec and is never echoed.
set -euo pipefail
mkdir -p weights
marker="${WEIGHTS_S3_URI%/}.complete"

case "$MODEL_SOURCE" in
  huggingface)
    if [ "$BAKE_WEIGHTS" != "true" ] && aws s3 ls "$marker" > /dev/null 2>&1; then
      echo "Weights for $MODEL_ID@$MODEL_REVISION are already in $WEIGHTS_S3_URI: not downloading them again."
      exit 0
    fi
    echo "Downloading $MODEL_ID@$MODEL_REVISION from Hugging Face"
    HF_HUB_ENABLE_HF_TRANSFER=1 huggingface-cli download "$MODEL_ID" --revision "$MODEL_REVISION" \
      --local-dir weights --exclude "original/*" > /dev/null
    rm -rf weights/.cache
    if [ "$BAKE_WEIGHTS" != "true" ]; then
      echo "Uploading the weights to $WEIGHTS_S3_URI"
      aws s3 sync weights "$WEIGHTS_S3_URI" --only-show-errors
      echo "$MODEL_ID@$MODEL_REVISION" | aws s3 cp - "$marker" --only-show-errors
      rm -rf weights && mkdir -p weights
    fi
    ;;
  s3)
    if [ "$BAKE_WEIGHTS" = "true" ]; then
      echo "Copying $MODEL_S3_URI into the image"
      case "$MODEL_S3_URI" in
        */) aws s3 sync "$MODEL_S3_URI" weights --only-show-errors ;;
        *.tar.gz | *.tgz) aws s3 cp "$MODEL_S3_URI" - --only-show-errors | tar -xz -C weights ;;
        *) aws s3 cp "$MODEL_S3_URI" weights/ --only-show-errors ;;
      esac
    fi
    ;;
  none) ;;
  *)
    echo "unknown MODEL_SOURCE $MODEL_SOURCE" >&2
    exit 1
    ;;
esac
