//! What the kernel knows: versions, and (in `keys`) the in-scope sysctl keys by version.
//!
//! This module holds kernel knowledge as data. Rules never compare version strings themselves;
//! they see what this module derives (whether a key exists, its default, whether a value would be
//! accepted) through the fact model.

use std::cmp::Ordering;
use std::fmt;

/// A kernel release reduced to what matters for sysctl behaviour: major, minor, patch.
/// `6.8.0-45-generic` and `6.8` compare equal in major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> KernelVersion {
        KernelVersion {
            major,
            minor,
            patch: 0,
        }
    }

    /// Parses a release as `uname -r` prints it or as a user writes it: `4.9`, `5.15.0`,
    /// `6.8.0-45-generic`, `3.10.0-1160.el7.x86_64`. Anything after the numeric part is ignored.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let s = s.trim();
        let numeric_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let mut parts = s[..numeric_end].split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let patch: u32 = match parts.next() {
            Some("") | None => 0,
            Some(p) => p.parse().ok()?,
        };
        // Linux has had releases 1.x to 7.x; a major of 0 or above 99 is a typo, not a kernel.
        if major == 0 || major > 99 || minor > 999 {
            return None;
        }
        Some(KernelVersion {
            major,
            minor,
            patch,
        })
    }

    /// The version as one integer, `major * 1000 + minor` (4.12 is 4012, 6.14 is 6014), as rules
    /// see it in CEL, where there is no version type.
    pub fn code(self) -> i64 {
        self.major as i64 * 1000 + self.minor as i64
    }
}

impl PartialOrd for KernelVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KernelVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uname_style_releases() {
        assert_eq!(
            KernelVersion::parse("6.8.0-45-generic"),
            Some(KernelVersion {
                major: 6,
                minor: 8,
                patch: 0
            })
        );
        assert_eq!(
            KernelVersion::parse("3.10.0-1160.el7.x86_64")
                .unwrap()
                .minor,
            10
        );
        assert_eq!(KernelVersion::parse("4.9").unwrap().code(), 4009);
        assert_eq!(KernelVersion::parse("6.18.44-fc-v669").unwrap().patch, 44);
        assert_eq!(KernelVersion::parse("six"), None);
        assert_eq!(KernelVersion::parse("6"), None);
        assert!(KernelVersion::new(4, 12) > KernelVersion::new(4, 9));
    }
}
