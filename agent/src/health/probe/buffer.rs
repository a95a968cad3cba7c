//! The buffer probes read into: one per thread rather than one per probe.
//!
//! A read fills it and the bytes are judged before the probe awaits again, so
//! no probe holds it across an await and every probe a thread runs at once
//! can share it. A probe's future then carries no buffer: nothing to zero
//! and box per probe, and nothing held while a probe waits on its server.

use std::cell::RefCell;

/// The largest datagram reply kept, and the most read in one call.
pub const SIZE: usize = 2048;

thread_local! {
    static BUFFER: RefCell<[u8; SIZE]> = const { RefCell::new([0; SIZE]) };
}

/// Runs `f` on this thread's buffer. No drop glue, so the key is never torn
/// down; only a nested call could find it borrowed, and it gets one of its own.
pub fn with_buffer<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut shared) => f(&mut shared[..]),
        Err(_) => f(&mut [0u8; SIZE]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_call_gets_a_buffer_of_its_own() {
        let seen = with_buffer(|outer| {
            outer[0] = 1;
            with_buffer(|inner| inner[0])
        });
        assert_eq!(seen, 0);
        assert_eq!(with_buffer(|b| b[0]), 1, "the shared buffer is kept between calls");
    }
}
