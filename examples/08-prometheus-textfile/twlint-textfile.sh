#!/bin/sh
# Writes twlint's view of this host for node_exporter's textfile collector. Install as
# /usr/local/lib/twlint/twlint-textfile.sh (mode 0755); run by twlint-textfile.service.
#
# The file is written next to its final name and renamed, so the collector never reads half a
# file. On an error (exit 2: unreadable files, a broken rule) the old file stays and the unit
# fails, which node_exporter's systemd collector and the file's age both show.
set -eu

TWLINT=${TWLINT:-/usr/local/bin/twlint}
TEXTFILE_DIR=${TEXTFILE_DIR:-/var/lib/node_exporter/textfile_collector}
# The root whose etc/sysctl.d, usr/lib/sysctl.d, etc/sysctl.conf ... are read as `sysctl --system` reads them.
SYSCTL_ROOT=${SYSCTL_ROOT:-/}
KERNEL=${KERNEL:-$(uname -r)}
# Optional: a topology that names this host, to add the hop figures (rates, TIME_WAIT, port pressure).
TOPOLOGY=${TOPOLOGY:-}

tmp="$TEXTFILE_DIR/.twlint.prom.$$"
trap 'rm -f "$tmp"' EXIT
if [ -n "$TOPOLOGY" ]; then
    "$TWLINT" --topology "$TOPOLOGY" --format prometheus --fail-on never > "$tmp"
else
    "$TWLINT" "$SYSCTL_ROOT" --kernel "$KERNEL" --format prometheus --fail-on never > "$tmp"
fi
chmod 0644 "$tmp"
mv "$tmp" "$TEXTFILE_DIR/twlint.prom"
