//! Byte searches shared by the hot loops that walk whole texts: the `sysctl -a` dump scanner
//! (every byte of every dump of a fleet) and the renderers' control-character boundary (every
//! byte of every report). They read eight bytes at a time as one word and test all eight with
//! a few integer operations ("SIMD within a register"): the vector shape the compiler makes of
//! a per-byte loop broadcasts each byte on its own and costs more than it saves. Each search's
//! lowest flag is exact, which is all a search for the first match needs.

/// `0x01` in every byte of a word.
pub const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes of `b` from `at` as one word (the first in the lowest bits), if there are
/// eight.
#[inline(always)]
pub fn word(b: &[u8], at: usize) -> Option<u64> {
    let w = b.get(at..at + 8)?;
    Some(u64::from_le_bytes(w.try_into().expect("eight bytes")))
}

/// The first position from `at` holding `byte`, or `b.len()`: eight bytes at a time as one
/// word, for the short stretches (a dump's value) where a memchr call costs more than the
/// search.
#[inline(always)]
pub fn find_byte(b: &[u8], mut at: usize, byte: u8) -> usize {
    while let Some(x) = word(b, at) {
        // Zero bytes of `x ^ byte`: subtracting borrows only upward from one, so the lowest
        // flag is exact.
        let v = x ^ (ONES * u64::from(byte));
        let flags = v.wrapping_sub(ONES) & !v & HIGH;
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    b[at.min(b.len())..]
        .iter()
        .position(|&c| c == byte)
        .map_or(b.len(), |i| at + i)
}

/// The first position from `at` whose byte is a C0 control (below `0x20`), DEL or not ASCII,
/// and for which `hit` holds, or `b.len()`. Eight bytes at a time as one word (no vector
/// shape needed): text that is printable ASCII, nearly all of a report, passes in a few
/// operations per word, and only the bytes in that class are asked of `hit`.
#[inline(always)]
pub fn find_unusual(b: &[u8], mut at: usize, hit: fn(u8) -> bool) -> usize {
    while let Some(x) = word(b, at) {
        // Bytes below 0x20: subtracting borrows only upward from such a byte, so the lowest
        // flag is exact; bytes from 0x7F: adding carries only from 0xFF, itself one of them.
        let low = x.wrapping_sub(ONES * 0x20) & !x;
        let high = x.wrapping_add(ONES) | x;
        let flags = (low | high) & HIGH;
        if flags == 0 {
            at += 8;
            continue;
        }
        let i = at + (flags.trailing_zeros() / 8) as usize;
        if hit(b[i]) {
            return i;
        }
        at = i + 1;
    }
    b[at.min(b.len())..]
        .iter()
        .position(|&c| hit(c))
        .map_or(b.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_finds_what_a_plain_search_finds() {
        let mut text: Vec<u8> = Vec::new();
        for c in 0..=255u8 {
            text.extend_from_slice(&b"kernel.x = 1\n"[..(c % 14) as usize]);
            text.push(c);
        }
        for byte in [b'\n', 0, 0xff, 0x80, b'a'] {
            for at in 0..=text.len() {
                let plain = text[at..]
                    .iter()
                    .position(|&c| c == byte)
                    .map_or(text.len(), |i| at + i);
                assert_eq!(find_byte(&text, at, byte), plain, "from {at}, byte {byte}");
            }
        }
    }

    #[test]
    fn find_unusual_finds_what_a_plain_search_finds() {
        // Every byte value, among printable text, at every alignment.
        let mut text: Vec<u8> = Vec::new();
        for c in 0..=255u8 {
            text.extend_from_slice(b"abc ");
            text.push(c);
            text.extend_from_slice(&b"net.ipv4 = 1"[..(c % 12) as usize]);
        }
        let hits: [fn(u8) -> bool; 4] = [
            |c| c < 0x20 && c != b'\n',
            |c| c == 0x7f,
            |c| c >= 0x80,
            |c| c == 0xe2 || c == 0x00,
        ];
        for (h, &hit) in hits.iter().enumerate() {
            for at in 0..=text.len() {
                let plain = text[at..]
                    .iter()
                    .position(|&c| hit(c))
                    .map_or(text.len(), |i| at + i);
                assert_eq!(find_unusual(&text, at, hit), plain, "from {at}, hit {h}");
            }
        }
    }
}
