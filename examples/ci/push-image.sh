#!/bin/sh
# Push a disk image built earlier in the job and fail the job unless ECS imports it.
#   IMAGE     the disk image file (qcow2, vhd, vmdk or raw)
#   MANIFEST  its sidecar manifest (default: $IMAGE.json)
# Connection: IMAGEDROP_BUCKET and IMAGEDROP_REGION, credentials in ALIBABA_CLOUD_ACCESS_KEY_ID /
# ALIBABA_CLOUD_ACCESS_KEY_SECRET. Exit codes: 0 succeeded, 1 failed or cancelled, 2 rejected or
# refused before upload, 3 cloud unreachable or upload interrupted (run again: it resumes), 4 timeout.
# Writes imagedrop-result.json (the import's status record) and image-id (the new image's id);
# on GitHub Actions also the step output `image-id`.
set -eu
: "${IMAGE:?set IMAGE to the disk image file}"
MANIFEST="${MANIFEST:-$IMAGE.json}"

imagedrop push "$IMAGE" --manifest "$MANIFEST" --wait --timeout 10800 --json > imagedrop-result.json
python3 -c 'import json; print(json.load(open("imagedrop-result.json"))["image_id"])' > image-id
echo "imagedrop: ECS image $(cat image-id)"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "image-id=$(cat image-id)" >> "$GITHUB_OUTPUT"
fi
