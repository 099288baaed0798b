//! The messages the ring scenario moves: 8 and 64 bytes, like the engine's small `Copy`
//! messages (`#[repr(C)]`, no extra alignment).

/// A message that carries a sequence number and can check it was not torn.
pub trait Message: Copy + Send + 'static {
    /// Size label for the report.
    const LABEL: &'static str;

    /// The message for sequence number `seq`.
    fn new(seq: u64) -> Self;

    /// True if this is exactly the message for `seq` (reads every byte of it).
    fn is(&self, seq: u64) -> bool;
}

/// 8 bytes: the sequence number.
pub type Msg8 = u64;

impl Message for Msg8 {
    const LABEL: &'static str = "8 B";

    #[inline(always)]
    fn new(seq: u64) -> u64 {
        seq
    }

    #[inline(always)]
    fn is(&self, seq: u64) -> bool {
        *self == seq
    }
}

/// 64 bytes: eight words derived from the sequence number, so a torn copy is caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Msg64([u64; 8]);

const _: () = assert!(std::mem::size_of::<Msg64>() == 64);

impl Message for Msg64 {
    const LABEL: &'static str = "64 B";

    #[inline(always)]
    fn new(seq: u64) -> Msg64 {
        let mut words = [0; 8];
        for (i, w) in words.iter_mut().enumerate() {
            *w = seq.wrapping_add(i as u64);
        }
        Msg64(words)
    }

    #[inline(always)]
    fn is(&self, seq: u64) -> bool {
        // Sum of seq + i over i = 0..8, compared as a whole so every word is read.
        let sum = self.0.iter().fold(0u64, |acc, w| acc.wrapping_add(*w));
        self.0[0] == seq && sum == seq.wrapping_mul(8).wrapping_add(28)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_recognise_their_own_sequence_number() {
        assert!(Msg64::new(41).is(41));
        assert!(!Msg64::new(41).is(42));
        let mut torn = Msg64::new(7);
        torn.0[5] = 0;
        assert!(!torn.is(7));
        assert!(Msg8::new(3).is(3));
    }
}
