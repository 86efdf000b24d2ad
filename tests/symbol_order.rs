//! The list of functions in order of use that the shipped binary is linked with
//! (`dist/symbol-order.txt`, written by `dist/symbol-order.sh`, read by `.cargo/link-static.sh`):
//! names are matched without what changes from build to build, every instance of a generic
//! function is told apart, and the symbols go to the linker in the list's order.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn awk(args: &[&str], input: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("awk")
        .args(args)
        .arg("-f")
        .arg(root.join("dist/symbol-order.awk"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("awk runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "awk {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn plain_names_drop_hashes_disambiguators_and_suffixes_only() {
    let names = [
        // A legacy symbol: its hash goes, its path stays.
        "_ZN6twlint4main17hfde8f99274867d20E",
        // v0: crate disambiguators and back references go, the instance's types stay.
        "_RNvMs3_NtCsgEmfK2I1SDS_5alloc7raw_vecINtB5_6RawVecNtNtCsjrHSEGnQ3l9_6twlint6inputs10AssignmentE8grow_oneB7_",
        "_RNvMs3_NtCsgEmfK2I1SDS_5alloc7raw_vecINtB5_6RawVecNtNtCsjrHSEGnQ3l9_6twlint4diag7LeftOutE8grow_oneB7_",
        // LLVM's promoted local, a local symbol's number, callgrind's recursion mark.
        "_ZN4core3fmt5write17h0123456789abcdefE.llvm.123456789",
        "_RNvNtCs1234567890a_4core3fmt5write.1204",
        "_RNvNtCs1234567890a_4core3fmt5write'2",
        // The crate a generic instance was made in goes, by name or back reference; a
        // function's own crate stays.
        "_RNvMs4_NtCsgEmfK2I1SDS_5alloc7raw_vecNtB5_11RawVecInner11finish_growCsjrHSEGnQ3l9_7bit_vec",
        "_RNvXs1i_NtCsgEmfK2I1SDS_4core3fmtRjNtB5_7Display3fmtCsjrHSEGnQ3l9_6twlint",
        "_RNvCsjrHSEGnQ3l9_6twlint4main",
        // A C function is left as it is.
        "__memcpy_avx_unaligned_erms",
    ];
    let out = awk(&["-v", "mode=plain"], &(names.join("\n") + "\n"));
    let plain: Vec<&str> = out.lines().collect();
    assert_eq!(
        plain,
        [
            "_ZN6twlint4mainE",
            "_RNvMs3_NtCs_5alloc7raw_vecINtB_6RawVecNtNtCs_6twlint6inputs10AssignmentE8grow_one",
            "_RNvMs3_NtCs_5alloc7raw_vecINtB_6RawVecNtNtCs_6twlint4diag7LeftOutE8grow_one",
            "_ZN4core3fmt5writeE",
            "_RNvNtCs_4core3fmt5write",
            "_RNvNtCs_4core3fmt5write",
            "_RNvMs4_NtCs_5alloc7raw_vecNtB_11RawVecInner11finish_grow",
            "_RNvXs1i_NtCs_4core3fmtRjNtB_7Display3fmt",
            "_RNvCs_6twlint4main",
            "__memcpy_avx_unaligned_erms",
        ]
    );
}

#[test]
fn the_linker_gets_the_objects_symbols_in_the_lists_order_and_a_count_of_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("order.txt");
    let summary = dir.path().join("summary");
    std::fs::write(
        &list,
        "_ZN6twlint4mainE\nmemcpy\n_RNvNtCs_4core3fmt5write\n_ZN6twlint4goneE\n",
    )
    .unwrap();
    // `nm --defined-only -P` lines: name, type, value, size. Data (`r`, `d`) is not ordered.
    let nm = "\
_RNvNtCsabc_4core3fmt5write t 10 20
_ZN6twlint4main17h1111111111111111E T 30 40
_ZN6twlint4data17h2222222222222222E r 50 60
_ZN6twlint5other17h3333333333333333E T 70 80
";
    let out = awk(
        &[
            "-v",
            "mode=resolve",
            "-v",
            &format!("order={}", list.display()),
            "-v",
            &format!("summary={}", summary.display()),
        ],
        nm,
    );
    assert_eq!(
        out,
        "_ZN6twlint4main17h1111111111111111E\nmemcpy\n_RNvNtCsabc_4core3fmt5write\n"
    );
    let said = std::fs::read_to_string(&summary).unwrap();
    assert!(
        said.starts_with("2 of the 3 Rust functions listed in "),
        "{said}"
    );
}

#[test]
fn the_shipped_list_holds_plain_names_once_each() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = std::fs::read_to_string(root.join("dist/symbol-order.txt")).unwrap();
    assert!(list.lines().count() > 100, "the list is nearly empty");
    let plain = awk(&["-v", "mode=plain"], &list);
    assert_eq!(plain, list, "a name in the list is not plain");
    let mut seen = std::collections::HashSet::new();
    for name in list.lines() {
        assert!(seen.insert(name), "{name} is listed twice");
    }
}
