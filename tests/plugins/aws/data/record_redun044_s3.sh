#!/usr/bin/env bash
# Re-creates redun-0.44.1-s3.db: redun 0.44.1 (its own venv) runs
# redun-0.44.1-s3-workflow.py.txt against this repo's moto server, on S3 Files.
#
#   python3 -m venv /tmp/aws-redun044 && /tmp/aws-redun044/bin/pip install redun==0.44.1
#   bash tests/plugins/aws/data/record_redun044_s3.sh /tmp/aws-redun044/bin/redun
#
# The S3 objects are the ones tests/plugins/aws/test_redun044_s3.py writes again
# (same bytes, so the same ETags).
set -euo pipefail
redun044="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
work="$(mktemp -d)"
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
(cd "$root" && PYTHONPATH="$root" .venv/bin/python -m tests.helpers.moto_main "$work/port") &
moto_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$work/port")"
"$root/.venv/bin/python" - <<'PY'
import boto3
s3 = boto3.client("s3")
s3.create_bucket(Bucket="redun-legacy")
s3.put_object(Bucket="redun-legacy", Key="input.txt", Body=b"one two three four\n")
PY
cp "$here/redun-0.44.1-s3-workflow.py.txt" "$work/wf.py"
cd "$work"
"$redun044" -c .redun run wf.py main --path s3://redun-legacy/input.txt \
  --out-path s3://redun-legacy/out/shout.txt
cp .redun/redun.db "$here/redun-0.44.1-s3.db"
echo "wrote $here/redun-0.44.1-s3.db"
