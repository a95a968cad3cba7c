//! ipvsadm's counter columns: nine characters wide, scaled to K/M/G/T unless `--exact`.

/// One counter as ipvsadm's `print_largenum` writes it, with its leading space(s).
///
/// Scaled numbers keep eight digits and a suffix, so the column stays nine wide
/// until a value passes 99,999,999 T; exact ones widen the column instead.
pub fn largenum(value: u64, exact: bool) -> String {
    if exact {
        let digits = value.to_string();
        let width = if digits.len() <= 8 { 9 } else { digits.len() + 1 };
        return format!("{digits:>width$}");
    }
    match value {
        0..=99_999_999 => format!("{value:>9}"),
        100_000_000..=999_999_999 => format!("{:>8}K", value / 1_000),
        1_000_000_000..=99_999_999_999 => format!("{:>8}M", value / 1_000_000),
        100_000_000_000..=99_999_999_999_999 => format!("{:>8}G", value / 1_000_000_000),
        _ => format!("{:>8}T", value / 1_000_000_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::largenum;

    #[test]
    fn scaled_thresholds_match_print_largenum() {
        assert_eq!(largenum(0, false), "        0");
        assert_eq!(largenum(99_999_999, false), " 99999999");
        assert_eq!(largenum(100_000_000, false), "  100000K");
        assert_eq!(largenum(999_999_999, false), "  999999K");
        assert_eq!(largenum(1_000_000_000, false), "    1000M");
        assert_eq!(largenum(99_999_999_999, false), "   99999M");
        assert_eq!(largenum(100_000_000_000, false), "     100G");
        assert_eq!(largenum(99_999_999_999_999, false), "   99999G");
        assert_eq!(largenum(100_000_000_000_000, false), "     100T");
        // Eight digits of T fill the column: ipvsadm loses the separating blank.
        assert_eq!(largenum(u64::MAX, false), "18446744T");
    }

    #[test]
    fn exact_widens_past_eight_digits() {
        assert_eq!(largenum(7, true), "        7");
        assert_eq!(largenum(12_345_678, true), " 12345678");
        assert_eq!(largenum(123_456_789, true), " 123456789");
        assert_eq!(largenum(u64::MAX, true), " 18446744073709551615");
    }
}
