# Names of functions without what changes from one build to the next, for the list of functions
# in order of use (dist/symbol-order.sh writes it, .cargo/link-static.sh hands it to the linker):
# the `17h<hash>E` of a legacy Rust symbol, the crate disambiguators (`Cs<hash>_`) and back
# references (`B<n>_`, whose offsets move with the disambiguators' lengths) of a v0 one, LLVM's
# `.llvm.<n>` and a local symbol's `.<n>`, callgrind's `'<n>` on a recursive call, and the
# crate a v0 generic instance was made in (its trailing `Cs_<len><crate>` or `B_`: which crate
# that is moves between builds of the same code, a stripped and an unstripped one among them).
# Two functions that differ only there get one name, and both are laid out early.
#
#   awk -v mode=plain -f dist/symbol-order.awk          names in, plain names out
#   nm --defined-only -P OBJECTS |
#     awk -v mode=resolve -v order=LIST -v summary=FILE -f dist/symbol-order.awk
#       the code symbols of OBJECTS whose plain name LIST holds, in LIST's order; names in LIST
#       that are not Rust symbols (the C library's, which is not among OBJECTS) as they are;
#       FILE gets one line saying how many of LIST's names were found.

function plain(s) {
    sub(/'[0-9]+$/, "", s)
    sub(/(\.llvm)?\.[0-9]+$/, "", s)
    sub(/17h[0-9a-f]+E$/, "E", s)
    gsub(/Cs[0-9A-Za-z]*_/, "Cs_", s)
    gsub(/B[0-9A-Za-z]*_/, "B_", s)
    return instance_crate_dropped(s)
}

# A plain v0 name without the crate its generic instance was made in: the last `Cs_` when the
# rest of the name is exactly that crate's name (`Cs_6twlint`; a function's own path goes on past
# its crate's name), or a back reference that ends the name.
function instance_crate_dropped(s,    i, j, rest, n) {
    if (s !~ /^_R/) return s
    if (sub(/B_$/, "", s)) return s
    i = 0
    while ((j = index(substr(s, i + 1), "Cs_")) > 0) i += j
    if (i == 0) return s
    rest = substr(s, i + 3)
    if (!match(rest, /^[0-9]+/)) return s
    n = substr(rest, 1, RLENGTH) + 0
    if (length(rest) - RLENGTH == n) return substr(s, 1, i - 1)
    return s
}

BEGIN {
    if (mode == "resolve")
        while ((getline line < order) > 0)
            if (!(line in rank)) { rank[line] = ++n; name[n] = line }
}

mode == "plain" { print plain($1); next }

mode == "resolve" && NF >= 2 && $2 ~ /^[TtWw]$/ && !($1 in done) {
    done[$1] = 1
    p = plain($1)
    if (p in rank) { k = rank[p]; at[k] = at[k] $1 "\n" }
}

END {
    if (mode != "resolve") exit
    found = 0
    for (k = 1; k <= n; k++) {
        if (k in at) { printf "%s", at[k]; found++ }
        else if (name[k] !~ /^_(ZN|R)/) print name[k]
        else missing++
    }
    if (summary != "")
        printf "%d of the %d Rust functions listed in %s were found\n", found, found + missing, order > summary
}
