//! The last few values of a per-bar series, in a ring allocated once.

/// The last `len` values pushed, in a ring sized at construction, so the hot path only
/// overwrites a slot.
///
/// The strategy keeps two per instrument: the EMA values its slope is measured over,
/// and the previous bars' highs and lows its breakout is measured against. Both are
/// short (tens of bars), so a scan for the extreme is cheaper than keeping a monotonic
/// deque in step.
#[derive(Debug, Clone)]
pub(super) struct Recent<T> {
    buf: Box<[T]>,
    /// Slot the next value overwrites; the oldest value once the ring is full.
    next: usize,
    /// Values held, up to `buf.len()`.
    filled: usize,
}

impl<T: Copy + Default> Recent<T> {
    /// An empty ring of `len` values.
    ///
    /// # Panics
    /// If `len` is zero (configuration validation rejects that first).
    pub(super) fn new(len: usize) -> Recent<T> {
        assert!(len > 0, "a window holds at least one value");
        Recent {
            buf: vec![T::default(); len].into_boxed_slice(),
            next: 0,
            filled: 0,
        }
    }

    /// Adds a value, overwriting the oldest once full.
    #[inline]
    pub(super) fn push(&mut self, value: T) {
        let len = self.buf.len();
        self.buf[self.next] = value;
        self.next = if self.next + 1 == len {
            0
        } else {
            self.next + 1
        };
        self.filled = (self.filled + 1).min(len);
        debug_assert!(self.next < len && self.filled <= len);
    }

    /// True once `len` values have been pushed since the last clear.
    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.filled == self.buf.len()
    }

    /// The oldest value of a full ring (the one the next push overwrites).
    #[inline]
    pub(super) fn oldest(&self) -> Option<T> {
        self.is_full().then(|| self.buf[self.next])
    }

    /// The value pushed last, if any.
    #[inline]
    pub(super) fn newest(&self) -> Option<T> {
        let len = self.buf.len();
        (self.filled > 0).then(|| self.buf[(self.next + len - 1) % len])
    }

    /// The values held, in no particular order (for extremes).
    #[inline]
    pub(super) fn values(&self) -> &[T] {
        &self.buf[..self.filled]
    }

    /// Forgets every value, keeping the allocation.
    pub(super) fn clear(&mut self) {
        self.next = 0;
        self.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_len_values() {
        let mut r = Recent::new(3);
        r.push(1);
        r.push(2);
        assert!(!r.is_full());
        assert_eq!(r.oldest(), None);
        assert_eq!(r.newest(), Some(2));
        assert_eq!(r.values(), [1, 2]);
        r.push(3);
        assert_eq!(r.oldest(), Some(1));
        assert_eq!(r.newest(), Some(3));
        r.push(4);
        assert_eq!((r.oldest(), r.newest()), (Some(2), Some(4)));
        let mut held = r.values().to_vec();
        held.sort_unstable();
        assert_eq!(held, [2, 3, 4]);
        r.clear();
        assert!(r.values().is_empty());
        assert_eq!(r.newest(), None);
        r.push(9);
        assert_eq!(r.values(), [9]);
    }

    #[test]
    fn a_ring_of_one_holds_the_latest() {
        let mut r = Recent::new(1);
        r.push(5.0);
        assert_eq!(r.oldest(), Some(5.0));
        r.push(6.0);
        assert_eq!((r.oldest(), r.newest()), (Some(6.0), Some(6.0)));
        assert_eq!(r.values(), [6.0]);
    }
}
