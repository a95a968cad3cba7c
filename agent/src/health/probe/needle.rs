//! A substring search over a stream read in pieces: the needle may straddle
//! two reads, and nothing but the needle's own table is kept between them
//! (Knuth-Morris-Pratt), so a body is never buffered whole.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needle {
    bytes: Vec<u8>,
    /// For each prefix length, the longest proper prefix that is also its suffix.
    fallback: Vec<usize>,
}

impl Needle {
    pub fn new(bytes: &[u8]) -> Needle {
        let mut fallback = vec![0; bytes.len()];
        let mut k = 0;
        for i in 1..bytes.len() {
            while k > 0 && bytes[i] != bytes[k] {
                k = fallback[k - 1];
            }
            if bytes[i] == bytes[k] {
                k += 1;
            }
            fallback[i] = k;
        }
        Needle { bytes: bytes.to_vec(), fallback }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Feeds the next piece; `matched` carries the state between pieces and
    /// starts at 0. True once the needle has been seen.
    pub fn feed(&self, matched: &mut usize, piece: &[u8]) -> bool {
        if self.bytes.is_empty() {
            return true;
        }
        for &b in piece {
            while *matched > 0 && b != self.bytes[*matched] {
                *matched = self.fallback[*matched - 1];
            }
            if b == self.bytes[*matched] {
                *matched += 1;
                if *matched == self.bytes.len() {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found_in_pieces(needle: &str, hay: &str, piece: usize) -> bool {
        let needle = Needle::new(needle.as_bytes());
        let mut matched = 0;
        hay.as_bytes().chunks(piece.max(1)).any(|c| needle.feed(&mut matched, c))
    }

    #[test]
    fn finds_across_pieces_of_every_size() {
        for piece in 1..8 {
            assert!(found_in_pieces("abab", "xxabaabab", piece), "piece {piece}");
            assert!(found_in_pieces("ok", "status: ok", piece));
            assert!(!found_in_pieces("abab", "abaabaaba", piece));
            assert!(found_in_pieces("aab", "aaab", piece));
            assert!(found_in_pieces("", "x", piece));
        }
    }
}
