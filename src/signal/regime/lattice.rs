//! A T × K table of per-bar, per-state values (posteriors, log-densities).

/// T rows (bars) of K values (states), stored row-major in one allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::Lattice;
/// let mut table = Lattice::zeros(2, 3);
/// table.row_mut(1)[2] = 0.5;
/// assert_eq!(table.row(1), &[0.0, 0.0, 0.5]);
/// assert_eq!(table.rows().count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    n_states: usize,
    values: Vec<f64>,
}

impl Lattice {
    /// A table of `len` rows of `n_states` zeros.
    pub fn zeros(len: usize, n_states: usize) -> Lattice {
        Lattice {
            n_states,
            values: vec![0.0; len * n_states],
        }
    }

    /// T, the number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.n_states).unwrap_or(0)
    }

    /// True when there are no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// K, the number of values in a row.
    #[inline]
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Row `t`.
    ///
    /// # Panics
    /// If `t` is not below [`len`](Self::len).
    #[inline]
    pub fn row(&self, t: usize) -> &[f64] {
        &self.values[t * self.n_states..(t + 1) * self.n_states]
    }

    /// Row `t`, to write.
    ///
    /// # Panics
    /// If `t` is not below [`len`](Self::len).
    #[inline]
    pub fn row_mut(&mut self, t: usize) -> &mut [f64] {
        &mut self.values[t * self.n_states..(t + 1) * self.n_states]
    }

    /// Row `read` to read and row `write` to write at once, for recursions over t.
    ///
    /// # Panics
    /// If the rows are the same or either is out of range.
    #[inline]
    pub(super) fn read_and_write(&mut self, read: usize, write: usize) -> (&[f64], &mut [f64]) {
        assert_ne!(read, write, "a row cannot be read and written at once");
        let k = self.n_states;
        if read < write {
            let (head, tail) = self.values.split_at_mut(write * k);
            (&head[read * k..(read + 1) * k], &mut tail[..k])
        } else {
            let (head, tail) = self.values.split_at_mut(read * k);
            (&tail[..k], &mut head[write * k..(write + 1) * k])
        }
    }

    /// The rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> + '_ {
        self.values.chunks_exact(self.n_states.max(1))
    }

    /// The rows as nested vectors (for JSON).
    pub fn to_rows(&self) -> Vec<Vec<f64>> {
        self.rows().map(<[f64]>::to_vec).collect()
    }
}
