#!/usr/bin/env bash
# The Action's twlint steps, from its inputs (INPUT_* in the environment):
#   run.sh report   the findings in INPUT_FORMAT (github: annotations), never failing the step
#   run.sh sarif    SARIF into INPUT_SARIF_FILE, never failing the step; sets the output sarif-file
#   run.sh gate     the human report, coloured, failing at INPUT_FAIL_ON (the config's without
#                   it); sets the output exit-code and exits with it
# What is judged: INPUT_TOPOLOGY, or else the blank-separated INPUT_PATHS; with neither, nothing
# (the action then only installs twlint). INPUT_CONFIG, INPUT_KERNEL and INPUT_ARGS
# (blank-separated) are added to every run.
set -uo pipefail
mode="${1:?report, sarif or gate}"
args=()
if [ -n "${INPUT_TOPOLOGY:-}" ]; then
  args+=(--topology "$INPUT_TOPOLOGY")
elif [ -n "${INPUT_PATHS:-}" ]; then
  read -r -d '' -a paths <<<"$INPUT_PATHS"
  args+=("${paths[@]}")
else
  # Neither: the action only installs twlint, for steps of the workflow's own.
  echo "twlint is installed ($(twlint --version)); no topology or paths given, nothing judged here"
  exit 0
fi
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_KERNEL:-}" ] && args+=(--kernel "$INPUT_KERNEL")
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -d '' -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi
case "$mode" in
  report)
    twlint "${args[@]}" --format "${INPUT_FORMAT:-github}" --fail-on never
    status=$?
    # 2: twlint could not read its input; the gate step says so and fails.
    [ "$status" -le 1 ] || echo "::warning::twlint could not do its job (exit $status)"
    exit 0
    ;;
  sarif)
    file="${INPUT_SARIF_FILE:-twlint.sarif}"
    twlint "${args[@]}" --format sarif --fail-on never > "$file"
    status=$?
    [ "$status" -le 1 ] || { echo "::error::twlint could not write SARIF (exit $status)"; exit "$status"; }
    echo "sarif-file=$file" >> "${GITHUB_OUTPUT:-/dev/null}"
    ;;
  gate)
    [ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
    twlint "${args[@]}" --color always
    status=$?
    echo "exit-code=$status" >> "${GITHUB_OUTPUT:-/dev/null}"
    case $status in
      0) echo "twlint: nothing at or above the threshold" ;;
      1) echo "::error::twlint found settings at or above the threshold (see the report above)" ;;
      *) echo "::error::twlint could not do its job (exit $status): bad arguments, unreadable input or a broken rule file" ;;
    esac
    exit "$status"
    ;;
  *)
    echo "run.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
