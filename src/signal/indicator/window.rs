//! The ring of recent `f64` samples that the windowed indicators share.

/// The last `len` samples, oldest first, in a ring allocated once.
///
/// Kept private to the indicators: [`TalibSma`](super::TalibSma),
/// [`BollingerBands`](super::BollingerBands) and [`RollingMeanStd`](super::RollingMeanStd)
/// each hold one, and each needs the sample leaving the window (to subtract it from a
/// running sum) or the whole window in order (for a two-pass deviation).
#[derive(Debug, Clone)]
pub(super) struct Window {
    buf: Box<[f64]>,
    /// Slot the next sample overwrites; the oldest sample once the ring is full.
    next: usize,
    /// Samples held, up to `buf.len()`.
    filled: usize,
}

impl Window {
    /// An empty window of `len` samples.
    ///
    /// # Panics
    /// If `len` is zero.
    pub(super) fn new(len: usize) -> Window {
        assert!(len > 0, "an indicator period must be at least 1");
        Window {
            buf: vec![0.0; len].into_boxed_slice(),
            next: 0,
            filled: 0,
        }
    }

    /// Adds a sample; returns the one it pushed out, once the window was full.
    #[inline]
    pub(super) fn push(&mut self, value: f64) -> Option<f64> {
        let len = self.buf.len();
        let slot = &mut self.buf[self.next];
        let evicted = (self.filled == len).then_some(*slot);
        if self.filled < len {
            self.filled += 1;
        }
        *slot = value;
        self.next += 1;
        if self.next == len {
            self.next = 0;
        }
        debug_assert!(self.next < len && self.filled <= len);
        evicted
    }

    /// The window length.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Samples held, up to [`len`](Window::len).
    #[inline]
    pub(super) fn filled(&self) -> usize {
        self.filled
    }

    /// True once `len` samples have been pushed.
    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.filled == self.buf.len()
    }

    /// The oldest sample of a full window (the next one [`push`](Window::push) evicts).
    #[inline]
    pub(super) fn oldest(&self) -> Option<f64> {
        self.is_full().then(|| self.buf[self.next])
    }

    /// The samples held, oldest first.
    #[inline]
    pub(super) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (older, newer) = if self.is_full() {
            (&self.buf[self.next..], &self.buf[..self.next])
        } else {
            (&self.buf[..self.filled], &self.buf[..0])
        };
        older.iter().chain(newer).copied()
    }

    /// Forgets every sample, keeping the allocation.
    pub(super) fn clear(&mut self) {
        self.next = 0;
        self.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_and_iterates_in_order() {
        let mut w = Window::new(3);
        assert_eq!(w.push(1.0), None);
        assert_eq!(w.push(2.0), None);
        assert_eq!(w.filled(), 2);
        assert_eq!(w.oldest(), None);
        assert_eq!(w.iter().collect::<Vec<_>>(), [1.0, 2.0]);
        assert_eq!(w.push(3.0), None);
        assert_eq!(w.oldest(), Some(1.0));
        assert_eq!(w.push(4.0), Some(1.0));
        assert_eq!(w.iter().collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
        w.clear();
        assert!(!w.is_full());
        assert_eq!(w.iter().count(), 0);
        assert_eq!(w.len(), 3);
    }
}
