#!/usr/bin/env bash
# Builds the static Linux binary and everything shipped around it, from the installed toolchain:
#
#   target/x86_64-unknown-linux-gnu/dist/twlint      the binary (profile `dist`, glibc linked in)
#   target/x86_64-unknown-linux-gnu/dist/assets/     man pages (plain and .gz), completions,
#                                                    the systemd units as the .deb installs them
#   target/dist/twlint-VERSION-TARGET.tar.gz         binary, pages, completions, README, licenses
#   target/dist/twlint-VERSION-TARGET.tar.gz.sha256  its SHA-256, as `sha256sum -c` reads it
#
# Why glibc and not musl: the Rust standard library for x86_64-unknown-linux-musl is a rustup
# component that no registry this project reaches carries (rustup's own server is out of reach,
# crates.io, PyPI, Debian and npm have no trustworthy copy); `-C target-feature=+crt-static` on
# the gnu target links glibc statically instead, and keeps glibc's allocator, so the fleet run
# keeps its speed (BENCHMARKS.md, "Static binary"). twlint resolves no host names and looks up no
# users, the two things static glibc cannot do without its shared NSS modules. TARGET says
# `-static` so the name cannot be mistaken for the usual dynamic gnu build.
#
# The tarball is reproducible: files sorted, owner 0, mtime of the commit, gzip without a name.
# Environment: TWLINT_PROFILE (default dist), CARGO_TARGET_DIR is not supported (the .deb's
# asset paths are relative to ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

triple=x86_64-unknown-linux-gnu
name_target="$triple-static"
profile="${TWLINT_PROFILE:-dist}"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
out=target/dist

echo "== build: twlint $version, profile $profile, $triple with crt-static"
# With --target, RUSTFLAGS reach only the target's crates, not build scripts or proc macros.
# dist/static-rustflags (also the wheel's, in .ci/package.sh): glibc linked in; position-dependent,
# as the README's build links it (no relocations to apply at start: `host --no-sockets` 1.07 ->
# 0.93 ms against the static-pie rustc makes by default); v0 symbols, which .cargo/config.toml
# sets for every other build and which this variable replaces (see dist/symbol-order.sh).
RUSTFLAGS="${RUSTFLAGS:-} $(cat dist/static-rustflags)" \
  cargo build --locked --profile "$profile" --target "$triple" --bin twlint
bin="target/$triple/$profile/twlint"
assets="target/$triple/$profile/assets"

echo "== check: $bin is static"
if readelf -lW "$bin" | grep -q 'program interpreter'; then
  echo "FAIL: $bin asks for a dynamic loader:" >&2; readelf -lW "$bin" | grep interpreter >&2; exit 1
fi
if readelf -dW "$bin" | grep -q '(NEEDED)'; then
  echo "FAIL: $bin needs shared libraries:" >&2; readelf -dW "$bin" | grep NEEDED >&2; exit 1
fi
"$bin" --version

echo "== check: $bin has its code in order of use"
# The link script writes how many of dist/symbol-order.txt's functions it found (see
# dist/symbol-order.sh); none is written when the linker is not lld, which cannot take the list.
summary=$(ls -t "target/$triple/$profile/deps"/twlint-*.symbol-order 2>/dev/null | head -1 || true)
if [ -z "$summary" ]; then
  echo "note: not laid out in order of use (the link was not lld's, or the profile is not dist)"
else
  cat "$summary"
  read -r found _ _ listed _ < "$summary"
  if [ $((found * 100)) -lt $((listed * 80)) ]; then
    echo "FAIL: fewer than 80% of the listed functions still exist; run dist/symbol-order.sh" >&2
    exit 1
  fi
fi

echo "== assets: man pages, completions, systemd units"
# target/dist is also where `cargo build --profile dist` (the README's build) keeps its output:
# only this script's own files are replaced there.
rm -rf "$assets" "$out/stage"
rm -f "$out"/twlint-*.tar.gz "$out"/twlint-*.tar.gz.sha256
mkdir -p "$out"
mkdir -p "$assets/man" "$assets/completions" "$assets/systemd"
"$bin" man --out "$assets/man" >/dev/null
for page in "$assets"/man/*.1; do gzip -9nc "$page" > "$page.gz"; done
"$bin" completions bash > "$assets/completions/twlint.bash"
"$bin" completions zsh > "$assets/completions/_twlint"
"$bin" completions fish > "$assets/completions/twlint.fish"
# The example's unit runs the script from /usr/local (installed by hand); the package puts it
# and twlint under /usr.
sed -e 's|^ExecStart=/usr/local/lib/twlint/twlint-textfile.sh|Environment=TWLINT=/usr/bin/twlint\nExecStart=/usr/lib/twlint/twlint-textfile.sh|' \
  examples/08-prometheus-textfile/twlint-textfile.service > "$assets/systemd/twlint-textfile.service"
grep -q '^ExecStart=/usr/lib/twlint/twlint-textfile.sh$' "$assets/systemd/twlint-textfile.service"

echo "== tarball"
dir="twlint-$version-$name_target"
stage="$out/stage/$dir"
mkdir -p "$stage/man" "$stage/completions"
install -m 0755 "$bin" "$stage/twlint"
install -m 0644 "$assets"/man/*.1 "$stage/man/"
install -m 0644 "$assets"/completions/* "$stage/completions/"
install -m 0644 README.md LICENSE-MIT LICENSE-APACHE "$stage/"
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$out/stage" -cf - "$dir" | gzip -9n > "$out/$dir.tar.gz"
rm -rf "$out/stage"
(cd "$out" && sha256sum "$dir.tar.gz" > "$dir.tar.gz.sha256")
ls -l "$out/$dir.tar.gz" "$out/$dir.tar.gz.sha256"
cat "$out/$dir.tar.gz.sha256"
