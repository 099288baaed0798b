//! The ring of recent samples that windowed indicators and strategies share.

/// The last `len` samples, oldest first, in a ring allocated once, so the hot path only
/// overwrites a slot.
///
/// [`TalibSma`](super::TalibSma), [`BollingerBands`](super::BollingerBands) and
/// [`RollingMeanStd`](super::RollingMeanStd) each hold one of `f64`, and need the sample
/// leaving the window (to subtract it from a running sum) or the whole window in order
/// (for a two-pass deviation). Strategies keep short ones of their own (the last EMA
/// values a slope is measured over, the previous bars' ranges a breakout is measured
/// against), where scanning tens of values for an extreme is cheaper than keeping a
/// monotonic deque in step.
#[derive(Debug, Clone)]
pub(crate) struct Window<T = f64> {
    buf: Box<[T]>,
    /// Slot the next sample overwrites; the oldest sample once the ring is full.
    next: usize,
    /// Samples held, up to `buf.len()`.
    filled: usize,
}

impl<T: Copy + Default> Window<T> {
    /// An empty window of `len` samples.
    ///
    /// # Panics
    /// If `len` is zero (configuration validation rejects that first).
    pub(crate) fn new(len: usize) -> Window<T> {
        assert!(len > 0, "a window holds at least one sample");
        Window {
            buf: vec![T::default(); len].into_boxed_slice(),
            next: 0,
            filled: 0,
        }
    }

    /// Adds a sample; returns the one it pushed out, once the window was full.
    #[inline]
    pub(crate) fn push(&mut self, value: T) -> Option<T> {
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
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Samples held, up to [`len`](Window::len).
    #[inline]
    pub(crate) fn filled(&self) -> usize {
        self.filled
    }

    /// True once `len` samples have been pushed.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.filled == self.buf.len()
    }

    /// The oldest sample of a full window (the next one [`push`](Window::push) evicts).
    #[inline]
    pub(crate) fn oldest(&self) -> Option<T> {
        self.is_full().then(|| self.buf[self.next])
    }

    /// The sample pushed last, if any.
    #[inline]
    pub(crate) fn newest(&self) -> Option<T> {
        let len = self.buf.len();
        (self.filled > 0).then(|| self.buf[(self.next + len - 1) % len])
    }

    /// The samples held, in no particular order: for extremes, cheaper than
    /// [`iter`](Window::iter).
    #[inline]
    pub(crate) fn values(&self) -> &[T] {
        &self.buf[..self.filled]
    }

    /// The samples held, oldest first.
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let (older, newer) = if self.is_full() {
            (&self.buf[self.next..], &self.buf[..self.next])
        } else {
            (&self.buf[..self.filled], &self.buf[..0])
        };
        older.iter().chain(newer).copied()
    }

    /// Forgets every sample, keeping the allocation.
    pub(crate) fn clear(&mut self) {
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

    #[test]
    fn newest_and_unordered_values() {
        let mut w = Window::new(3);
        assert_eq!(w.newest(), None);
        for v in 1..=4 {
            w.push(v);
        }
        assert_eq!((w.oldest(), w.newest()), (Some(2), Some(4)));
        let mut held = w.values().to_vec();
        held.sort_unstable();
        assert_eq!(held, [2, 3, 4]);
        w.clear();
        w.push(9);
        assert_eq!((w.values(), w.newest()), (&[9][..], Some(9)));
    }

    #[test]
    fn a_window_of_one_holds_the_latest() {
        let mut w = Window::new(1);
        w.push(5.0);
        assert_eq!(w.push(6.0), Some(5.0));
        assert_eq!(
            (w.oldest(), w.newest(), w.values()),
            (Some(6.0), Some(6.0), &[6.0][..])
        );
    }
}
