//! Progress lines on stderr. The build takes tens of seconds on a first run
//! (download, unpack, compress); these lines say which step it is in.

/// One progress line: `lvs-image: <message>`.
pub fn note(message: impl std::fmt::Display) {
    eprintln!("lvs-image: {message}");
}

/// Sizes as people read them: "1.37 MiB", "562 KiB", "406 B".
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.2} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_naturally() {
        assert_eq!(super::size(406), "406 B");
        assert_eq!(super::size(562 * 1024), "562 KiB");
        assert_eq!(super::size(1_436_549), "1.37 MiB");
    }
}
