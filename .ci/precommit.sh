#!/usr/bin/env bash
# pre-commit step: installs pre-commit from PyPI into a throwaway virtualenv and runs this
# repository's hooks (.pre-commit-hooks.yaml) the way a user's pre-commit would, with
# `pre-commit try-repo` on a scratch git repository: a clean sysctl file must pass, a dangerous
# one must be blocked. Fails when any of that fails. Needs python3 with venv, git and network
# access to PyPI and crates.io (pre-commit builds twlint with `cargo install`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== pre-commit: install into $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pre-commit
"$work/venv/bin/pre-commit" --version
export PRE_COMMIT_HOME="$work/cache"

mkdir -p "$work/site/etc/sysctl.d"
cd "$work/site"
git init --quiet
git config user.email ci@example.invalid
git config user.name ci
printf 'net.ipv4.tcp_tw_reuse = 1\n' > etc/sysctl.d/60-tcp.conf
git add .

echo "== pre-commit: a clean sysctl file passes"
"$work/venv/bin/pre-commit" try-repo "$repo" twlint --all-files

echo "== pre-commit: a dangerous sysctl file is blocked"
printf 'net.ipv4.tcp_tw_recycle = 1\n' > etc/sysctl.d/70-legacy.conf
git add .
set +e
out=$("$work/venv/bin/pre-commit" try-repo "$repo" twlint --all-files 2>&1)
rc=$?
set -e
echo "$out" | tail -20
if [ "$rc" -eq 0 ] || ! grep -q "TW101" <<<"$out"; then
  echo "FAIL: the hook let tcp_tw_recycle through (exit $rc)" >&2
  exit 1
fi
echo "pre-commit: 2 passed, 0 failed"
