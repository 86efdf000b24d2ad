//! How twlint writes a measured or derived number for a reader: rates, capacities, durations
//! and floats in rule messages all go through [`format_number`], so one figure reads the same in
//! every output.

/// `470.5333` → `470.5`, `28232.0` → `28232`, `1500.0` → `1500`.
pub fn format_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if (f - f.round()).abs() < 1e-9 || f.abs() >= 1000.0 {
        format!("{}", f.round() as i64)
    } else {
        let s = format!("{f:.1}");
        s.trim_end_matches(".0").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(format_number(470.5333), "470.5");
        assert_eq!(format_number(28232.0), "28232");
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(0.25), "0.2");
        assert_eq!(format_number(1234.6), "1235");
    }
}
