#!/usr/bin/env bash
# Package step: builds every artefact a user installs twlint from, once, and exercises each one
# the way a user would. One build (dist/build-static.sh: profile `dist`, static) feeds them all.
#   1. the static binary runs in an empty root (chroot into a folder holding only it and its
#      input) on the seed topology and a sysctl -a dump, with the output of the regular build;
#   2. the tarball: its SHA-256 checks, it holds the binary, pages and completions;
#   3. the .deb (cargo-deb): installed with dpkg -i, run, its files where Debian wants them,
#      removed again;
#   4. the PyPI wheel (maturin, bindings = "bin"): installed into a fresh virtual environment
#      and run; then the `twlint-python` pre-commit hook, through `pre-commit try-repo`, installs
#      it (the wheel from a local folder standing in for PyPI) and blocks tcp_tw_recycle;
#   5. the GitHub Action's install script downloads the tarball (file://), checks it, runs it;
#   6. the container image (Containerfile) built with buildah (no Docker engine here) and its
#      root file system run with chroot;
#   7. crates.io: `cargo package` builds the crate from what would be published.
# Needs root (chroot, dpkg), network access to crates.io, PyPI and Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
name="twlint-$version-x86_64-unknown-linux-gnu-static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
step() { echo "== package: $* ($(date -u +%H:%M:%S))"; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

step "static binary, man pages, completions, tarball (dist/build-static.sh)"
dist/build-static.sh
bin="target/x86_64-unknown-linux-gnu/dist/twlint"
[ -x target/release/twlint ] || cargo build --release --quiet

step "1. the static binary in an empty root"
root="$work/root"
mkdir -p "$root/in"
cp "$bin" "$root/twlint"
cp -r topologies "$root/in/"
cp tests/fixtures/host/sosreport-web/sos_commands/kernel/sysctl_-a "$root/in/dump.txt"
[ "$(find "$root" -maxdepth 1 | wc -l)" -eq 3 ] # the root, twlint, in/: no lib, no etc, no proc
for args in "--topology in/topologies/lb-web-db.yaml --no-live --color never" "in/dump.txt --color never"; do
  set +e
  # shellcheck disable=SC2086
  (cd "$root" && chroot "$root" /twlint $args > "$work/chroot.out" 2> "$work/chroot.err")
  rc=$?
  # shellcheck disable=SC2086
  (cd "$root" && "$repo/target/release/twlint" $args > "$work/host.out" 2>/dev/null)
  rc_host=$?
  set -e
  if [ "$rc" -ne "$rc_host" ] || ! cmp -s "$work/chroot.out" "$work/host.out"; then
    echo "FAIL: in the empty root, twlint $args exited $rc (the regular build: $rc_host)" >&2
    cat "$work/chroot.err" >&2; diff "$work/host.out" "$work/chroot.out" | head -20 >&2; exit 1
  fi
  tail -1 "$work/chroot.out"
done
chroot "$root" /twlint --version
ok "static binary runs alone in an empty root, output identical to the regular build"

step "2. tarball"
(cd target/dist && sha256sum --check --strict "$name.tar.gz.sha256")
tar -xzf "target/dist/$name.tar.gz" -C "$work"
for f in twlint README.md LICENSE-MIT LICENSE-APACHE man/twlint.1 man/twlint-advise.1 \
  completions/twlint.bash completions/_twlint completions/twlint.fish; do
  [ -s "$work/$name/$f" ] || { echo "FAIL: the tarball lacks $f" >&2; exit 1; }
done
for section in "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
  grep -q "^\.SH \"*$section" "$work/$name/man/twlint.1" || { echo "FAIL: twlint.1 lacks $section" >&2; exit 1; }
done
"$work/$name/twlint" --version
ok "tarball checks against its SHA-256 and holds the binary, $(ls "$work/$name/man" | wc -l) man pages and 3 completions"

step "3. Debian package (cargo-deb)"
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --locked --quiet
fi
cargo deb --no-build --no-strip --target x86_64-unknown-linux-gnu --profile dist --output "$work/deb/"
deb=$(ls "$work"/deb/twlint_*.deb)
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'
dpkg -i "$deb" >/dev/null
trap 'dpkg -r twlint >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for f in /usr/bin/twlint /usr/share/man/man1/twlint.1.gz /usr/share/man/man1/twlint-advise.1.gz \
  /usr/share/bash-completion/completions/twlint /usr/share/zsh/vendor-completions/_twlint \
  /usr/share/fish/vendor_completions.d/twlint.fish /usr/lib/twlint/twlint-textfile.sh \
  /lib/systemd/system/twlint-textfile.service /lib/systemd/system/twlint-textfile.timer \
  /usr/share/twlint/monitoring/twlint.rules.yml /usr/share/doc/twlint/copyright; do
  [ -e "$f" ] || { echo "FAIL: the package did not install $f" >&2; exit 1; }
done
grep -q '^ExecStart=/usr/lib/twlint/twlint-textfile.sh$' /lib/systemd/system/twlint-textfile.service
/usr/bin/twlint --version
set +e; /usr/bin/twlint --topology topologies/lb-web-db.yaml --no-live --color never > "$work/deb.out"; rc=$?; set -e
[ "$rc" -eq 1 ] && tail -1 "$work/deb.out"
# The packaged timer's script writes the textfile with the packaged twlint.
mkdir -p "$work/textfile"
TWLINT=/usr/bin/twlint TEXTFILE_DIR="$work/textfile" SYSCTL_ROOT=examples/08-prometheus-textfile/root KERNEL=6.8 \
  /usr/lib/twlint/twlint-textfile.sh
grep -q '^twlint_findings{.*rule="TW101"' "$work/textfile/twlint.prom"
dpkg -r twlint >/dev/null
[ ! -e /usr/bin/twlint ]
ok "$(basename "$deb") installs with dpkg -i, runs, its timer script writes the textfile, removes cleanly"

step "4. PyPI wheel (maturin) and the python pre-commit hook"
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet "maturin>=1.5,<2"
# The same profile, target and flags as dist/build-static.sh: cargo finds the binary built.
# maturin reads dist/pypi/pyproject.toml from the folder it runs in (its manifest-path leads
# to the crate).
start=$(date +%s)
flags=$(cat dist/static-rustflags)
(cd dist/pypi && RUSTFLAGS="${RUSTFLAGS:-} $flags" "$work/build/bin/maturin" build \
  --target x86_64-unknown-linux-gnu --compatibility manylinux2014 --out "$work/wheels")
echo "maturin took $(( $(date +%s) - start )) s"
wheel=$(ls "$work"/wheels/twlint-*.whl)
echo "$(basename "$wheel"): $(stat -c %s "$wheel") bytes"
python3 -m venv "$work/user"
"$work/user/bin/pip" install --quiet --no-index "$wheel"
"$work/user/bin/twlint" --version
set +e; "$work/user/bin/twlint" examples/05-ci/etc/sysctl.d/ --kernel 6.8 --color never > "$work/wheel.out"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q TW101 "$work/wheel.out"
readelf -lW "$work/user/bin/twlint" | grep -q 'program interpreter' && { echo "FAIL: the wheel's binary is dynamic" >&2; exit 1; }
ok "wheel installs into a fresh virtual environment and runs"

"$work/build/bin/pip" install --quiet pre-commit
mkdir -p "$work/site/etc/sysctl.d"
(
  cd "$work/site"
  git init --quiet
  git config user.email ci@example.invalid
  git config user.name ci
  printf 'net.ipv4.tcp_tw_reuse = 1\n' > etc/sysctl.d/60-tcp.conf
  git add .
  export PRE_COMMIT_HOME="$work/pre-commit-cache"
  # The wheel folder stands in for PyPI (twlint is not published there yet); setuptools for the
  # hook's package comes from the ordinary index. No Rust toolchain on the PATH: the hook must
  # install without compiling anything.
  export PIP_FIND_LINKS="$work/wheels ${PIP_FIND_LINKS:-}"
  PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/\.cargo/bin$' | paste -sd:)
  export PATH
  if command -v cargo >/dev/null; then echo "FAIL: cargo is still on the PATH" >&2; exit 1; fi
  start=$(date +%s)
  "$work/build/bin/pre-commit" try-repo "$repo" twlint-python --all-files
  echo "pre-commit installed the hook and ran it in $(( $(date +%s) - start )) s, compiling nothing"
  printf 'net.ipv4.tcp_tw_recycle = 1\n' > etc/sysctl.d/70-legacy.conf
  git add .
  set +e
  out=$("$work/build/bin/pre-commit" try-repo "$repo" twlint-python --all-files 2>&1)
  rc=$?
  set -e
  echo "$out" | tail -5
  if [ "$rc" -eq 0 ] || ! grep -q TW101 <<<"$out"; then
    echo "FAIL: the python hook let tcp_tw_recycle through (exit $rc)" >&2; exit 1
  fi
)
ok "the twlint-python pre-commit hook installs the wheel and blocks tcp_tw_recycle"

step "5. the GitHub Action's install script"
mkdir -p "$work/runner"
: > "$work/runner/path"
RUNNER_TEMP="$work/runner" GITHUB_PATH="$work/runner/path" TWLINT_VERSION="$version" \
  TWLINT_DOWNLOAD_URL="file://$repo/target/dist" dist/action/install.sh
installed="$(cat "$work/runner/path")/twlint"
set +e; INPUT_TOPOLOGY=examples/06-github-actions/infra/topology.yaml PATH="$(dirname "$installed"):$PATH" \
  dist/action/run.sh gate > "$work/action.out"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q '::error::twlint found settings' "$work/action.out"
ok "the action installs the checked tarball and its gate fails on the example's dangerous setting"

step "6. container image (buildah: no Docker engine here)"
command -v buildah >/dev/null || apt_install buildah
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
buildah --root "$work/containers" --runroot "$work/run" bud --quiet -f Containerfile -t "twlint:$version" . >/dev/null
ctr=$(buildah --root "$work/containers" --runroot "$work/run" from "twlint:$version")
mnt=$(buildah --root "$work/containers" --runroot "$work/run" mount "$ctr")
find "$mnt" -type f | sed "s|^$mnt||" | sort
cp -r topologies "$mnt/work/"
buildah --root "$work/containers" --runroot "$work/run" inspect --format 'entrypoint {{.OCIv1.Config.Entrypoint}}, user {{.OCIv1.Config.User}}, workdir {{.OCIv1.Config.WorkingDir}}{{"\n"}}' "$ctr"
set +e; chroot --userspec=65534:65534 "$mnt" /usr/bin/twlint --topology /work/topologies/lb-web-db.yaml --color never > "$work/image.out"; rc=$?; set -e
[ "$rc" -eq 1 ] && tail -1 "$work/image.out"
buildah --root "$work/containers" --runroot "$work/run" umount "$ctr" >/dev/null
buildah --root "$work/containers" --runroot "$work/run" rm "$ctr" >/dev/null
ok "the image builds from Containerfile and its root file system runs twlint as nobody"

step "7. crates.io: cargo package"
cargo package --locked --allow-dirty --list > "$work/crate-files"
for f in Cargo.toml LICENSE-MIT LICENSE-APACHE README.md build.rs src/main.rs rules/README.md src/data/known-keys.txt; do
  grep -qx "$f" "$work/crate-files" || { echo "FAIL: the crate lacks $f" >&2; exit 1; }
done
if grep -E '^(tests|benches|fuzz|\.ci|dist)/' "$work/crate-files"; then
  echo "FAIL: the crate carries the files above, which exclude should keep out" >&2; exit 1
fi
cargo package --locked --allow-dirty
ls -l target/package/twlint-"$version".crate
ok "cargo package builds the crate from its $(wc -l < "$work/crate-files") files"

# The versions every packaging file names agree with Cargo.toml's.
grep -q "^version = \"$version\"" pyproject.toml
grep -q "\"twlint==$version\"" pyproject.toml
grep -q "default: \"$version\"" action.yml
grep -q "^ARG VERSION=$version$" Containerfile
echo "package: $passed passed, 0 failed"
