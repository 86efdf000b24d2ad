#!/usr/bin/env bash
# The Action's install step: downloads twlint-VERSION-x86_64-unknown-linux-gnu-static.tar.gz
# and its .sha256 from TWLINT_DOWNLOAD_URL (VERSION replaced), checks the sum, unpacks it under
# RUNNER_TEMP and puts twlint on the job's PATH (GITHUB_PATH). Fails on anything but Linux x86_64.
set -euo pipefail
: "${TWLINT_VERSION:?}" "${TWLINT_DOWNLOAD_URL:?}" "${RUNNER_TEMP:?}" "${GITHUB_PATH:?}"
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "::error::twlint's release binary is for Linux x86_64; this runner is $(uname -s) $(uname -m)" >&2
  exit 1
fi
name="twlint-$TWLINT_VERSION-x86_64-unknown-linux-gnu-static"
base="${TWLINT_DOWNLOAD_URL//VERSION/$TWLINT_VERSION}"
dir="$RUNNER_TEMP/twlint-$TWLINT_VERSION"
mkdir -p "$dir"
cd "$dir"
for f in "$name.tar.gz" "$name.tar.gz.sha256"; do
  curl --fail --silent --show-error --location --retry 3 --output "$f" "$base/$f"
done
sha256sum --check --strict "$name.tar.gz.sha256"
tar -xzf "$name.tar.gz"
echo "$dir/$name" >> "$GITHUB_PATH"
"$dir/$name/twlint" --version
