//! Byte searches shared by the hot loops that walk whole texts: the `sysctl -a` dump scanner
//! (every byte of every dump of a fleet) and the renderers' control-character boundary
//! (every byte of every report). One search, [`find_first`], so both get the same vector shape.

/// The first position from `at` whose byte `hit` accepts, or `b.len()`: sixteen bytes at a
/// time, with the flags of all sixteen computed without branching and read as one 128-bit
/// number (that shape compiles to a handful of vector instructions); a memchr per call costs
/// more than the short stretches (a dump's line, a report's field) it would search.
#[inline(always)]
pub fn find_first(b: &[u8], mut at: usize, hit: fn(u8) -> bool) -> usize {
    while let Some(chunk) = b.get(at..at + 16) {
        let mut flags = [0u8; 16];
        for (f, &c) in flags.iter_mut().zip(chunk) {
            *f = u8::from(hit(c));
        }
        let i = (u128::from_le_bytes(flags).trailing_zeros() / 8) as usize;
        if i < 16 {
            return at + i;
        }
        at += 16;
    }
    b[at.min(b.len())..]
        .iter()
        .position(|&c| hit(c))
        .map_or(b.len(), |i| at + i)
}

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The first position from `at` whose byte is a C0 control (below `0x20`), DEL or not ASCII,
/// and for which `hit` holds, or `b.len()`. Eight bytes at a time as one word (no vector
/// shape needed): text that is printable ASCII, nearly all of a report, passes in a few
/// operations per word, and only the bytes in that class are asked of `hit`.
#[inline(always)]
pub fn find_unusual(b: &[u8], mut at: usize, hit: fn(u8) -> bool) -> usize {
    while let Some(word) = b.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
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

    #[test]
    fn find_first_finds_what_a_plain_search_finds() {
        let text: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        for at in 0..=text.len() {
            for probe in [0u8, 1, 37, 200, 250] {
                let hit = match probe {
                    0 => (|c| c == 0) as fn(u8) -> bool,
                    1 => |c| c == 1,
                    37 => |c| c == 37,
                    200 => |c| c >= 200,
                    _ => |c| c == 250,
                };
                let plain = text[at..]
                    .iter()
                    .position(|&c| hit(c))
                    .map_or(text.len(), |i| at + i);
                assert_eq!(
                    find_first(&text, at, hit),
                    plain,
                    "from {at}, probe {probe}"
                );
            }
        }
    }
}
