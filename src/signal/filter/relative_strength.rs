//! Relative strength against the index.

use super::{FilterRefusal, SignalFilter};
use crate::{
    model::{Direction, InstrumentId, InstrumentKind, InstrumentTable, Signal},
    signal::Bar,
};

/// The last `bars + 1` closes of one instrument, oldest overwritten first.
#[derive(Debug, Clone)]
struct Closes {
    ring: Box<[i64]>,
    next: usize,
    filled: usize,
}

impl Closes {
    fn new(len: usize) -> Closes {
        Closes {
            ring: vec![0; len].into_boxed_slice(),
            next: 0,
            filled: 0,
        }
    }

    fn push(&mut self, close: i64) {
        self.ring[self.next] = close;
        self.next = (self.next + 1) % self.ring.len();
        self.filled = (self.filled + 1).min(self.ring.len());
    }

    /// `(oldest, newest)` once the ring is full.
    fn ends(&self) -> Option<(i64, i64)> {
        if self.filled < self.ring.len() {
            return None;
        }
        let newest = self.ring[(self.next + self.ring.len() - 1) % self.ring.len()];
        let oldest = self.ring[self.next];
        (oldest > 0).then_some((oldest, newest))
    }
}

/// Longs only in stocks that rose more than the index over the last `bars` bars, shorts
/// only in stocks that rose less (fell more). Until both have `bars` bars of history the
/// filter passes; instruments other than equities (options, the index) always pass, and
/// so does an index fund (an equity whose underlying is an index, such as NIFTYBEES):
/// it tracks the index by construction, so whether it beat the index over a few bars
/// is noise, not strength.
///
/// The comparison is exact: `stock_now / stock_then` against `index_now / index_then`,
/// cross-multiplied in integers.
#[derive(Debug, Clone)]
pub struct RelativeStrength {
    index: InstrumentId,
    closes: Vec<Option<Closes>>,
}

impl RelativeStrength {
    /// Tracks every equity of `instruments` and `index` over `bars` bars.
    pub fn new(instruments: &InstrumentTable, index: InstrumentId, bars: usize) -> Self {
        let closes = instruments
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let stock = inst.kind == InstrumentKind::Equity && inst.underlying.is_none();
                let tracked = stock || i == index.index();
                tracked.then(|| Closes::new(bars + 1))
            })
            .collect();
        RelativeStrength { index, closes }
    }

    /// `Some(true)` when `instrument` outperformed the index over the lookback,
    /// `Some(false)` when it did not, `None` before both are warm or for untracked ones.
    pub fn outperforms(&self, instrument: InstrumentId) -> Option<bool> {
        if instrument == self.index {
            return None;
        }
        let (s0, s1) = self.closes.get(instrument.index())?.as_ref()?.ends()?;
        let (i0, i1) = self.closes.get(self.index.index())?.as_ref()?.ends()?;
        Some(i128::from(s1) * i128::from(i0) > i128::from(i1) * i128::from(s0))
    }
}

impl SignalFilter for RelativeStrength {
    fn on_bar(&mut self, bar: &Bar) {
        if let Some(Some(c)) = self.closes.get_mut(bar.instrument.index()) {
            c.push(bar.close.raw());
        }
    }

    fn check(&self, signal: &Signal) -> Result<(), FilterRefusal> {
        match (signal.direction, self.outperforms(signal.instrument)) {
            (Direction::Long, Some(false)) | (Direction::Short, Some(true)) => {
                Err(FilterRefusal::RELATIVE_STRENGTH)
            }
            _ => Ok(()),
        }
    }
}
