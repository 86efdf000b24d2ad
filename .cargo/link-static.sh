#!/bin/sh
# The linker of x86_64 Linux builds (.cargo/config.toml): links twlint's executable statically,
# and the shipped one (profile `dist`) with its code in order of use (below), passing every other
# link through unchanged.
#
# Why: on glibc rustc links an executable against libc.so and libgcc_s.so, and the dynamic
# loader then spends about a quarter of a short run (`twlint host`, `twlint explain`) loading
# and relocating them; linked statically and position-dependent the same code runs 0.23 M
# fewer instructions with 50 fewer page faults (BENCHMARKS.md, "Paths users run"). Rust can
# only link statically with `-C target-feature=+crt-static`, which needs `--target` (set for
# the host it breaks the proc macros), so `cargo build --release` cannot ask for it; this
# script does the same link instead.
#
# Which link: the one that carries `-no-pie`, which build.rs adds to this package's executables
# only (and to their test harness; not to build scripts, proc macros, the library's or the
# integration tests, or fuzz targets), and not when crt-static is already set. Without the static C library (`libc.a`, in glibc's development package) the
# link stays dynamic, so a build never fails for it.
cc=${TWLINT_LINK_CC:-cc}
mark=no
lld=no
out=
prev=
for a do
    [ "$a" = -no-pie ] && mark=yes
    [ "$a" = -fuse-ld=lld ] && lld=yes
    [ "$prev" = -o ] && out=$a
    prev=$a
done

# The shipped binary (profile `dist`, with or without --target) is linked with its code in order
# of use: dist/symbol-order.txt names the functions the paths users run execute, without their
# hashes (dist/symbol-order.sh writes it and says why). dist/symbol-order.awk matches those names
# against the symbols of the objects being linked, and lld gets the real names in that order;
# how many were found goes beside the executable, in `<output>.symbol-order`, which
# dist/build-static.sh checks. Only lld reads such a list: a link by another linker only loses
# the order, as does a name that matches nothing.
case $out in
*/dist/deps/twlint-*)
    rm -f "$out.symbol-order"
    dist=$(cd "$(dirname "$0")/../dist" && pwd)
    if [ "$lld" = yes ] && [ -f "$dist/symbol-order.txt" ]; then
        names=$(mktemp)
        trap 'rm -f "$names"' EXIT
        for a do
            case $a in
            *.o | *.rlib) nm --defined-only -P "$a" 2>/dev/null ;;
            esac
        done | awk -v mode=resolve -v order="$dist/symbol-order.txt" \
            -v summary="$out.symbol-order" -f "$dist/symbol-order.awk" > "$names"
        set -- "$@" "-Wl,--symbol-ordering-file=$names" -Wl,--no-warn-symbol-ordering
    fi
    ;;
esac
libc=$("$cc" -print-file-name=libc.a 2>/dev/null)
if [ "$mark" = no ] || [ ! -f "$libc" ]; then
    "$cc" "$@"
    exit
fi
# rustc's line for a dynamic glibc executable: `-Wl,-Bdynamic -lgcc_s ... -lc` and `-pie`.
# Statically, the unwinder is libgcc_eh's (as rustc links it under crt-static), and nothing
# switches back to shared libraries.
for a do
    shift
    case $a in
        -Wl,-Bdynamic | -pie) continue ;;
        -lgcc_s) set -- "$@" -lgcc_eh -lgcc ;;
        *) set -- "$@" "$a" ;;
    esac
done
"$cc" "$@" -static
