//! The executable `cargo build` makes on x86_64 Linux with glibc is static and position-dependent
//! (`.cargo/link-static.sh`, marked by build.rs's `-no-pie`): no dynamic loader runs at its start.
//! Where the static C library is missing, the script links dynamically, and this test says so
//! instead of failing.

use std::process::Command;

/// The ELF program header types of `bytes` (a 64-bit little-endian ELF file).
fn program_header_types(bytes: &[u8]) -> Vec<u32> {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (offset, size, count) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..count).map(|i| u32_at(offset + i * size)).collect()
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

#[test]
fn the_executable_is_linked_without_a_dynamic_loader() {
    if !(cfg!(target_arch = "x86_64") && cfg!(target_os = "linux") && cfg!(target_env = "gnu")) {
        return;
    }
    let libc = Command::new("cc")
        .arg("-print-file-name=libc.a")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !std::path::Path::new(&libc).is_file() {
        eprintln!(
            "no static libc.a here: the executable is linked dynamically, as the script says"
        );
        return;
    }
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_twlint")).expect("the executable");
    let types = program_header_types(&bytes);
    assert!(
        !types.contains(&PT_INTERP) && !types.contains(&PT_DYNAMIC),
        "the executable asks for a dynamic loader: {types:?}"
    );
    // Position-dependent: an executable (ET_EXEC), not a shared object (ET_DYN).
    assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 2, "not ET_EXEC");
}
