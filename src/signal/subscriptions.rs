//! Which strategies receive which instrument's events, fixed at construction.

use super::Strategy;
use crate::model::{InstrumentId, InstrumentTable, StrategyId};

/// For each instrument, the strategies subscribed to it, in [`StrategyId`] order.
///
/// Stored flat (one array of ids, one array of offsets into it), so a lookup on the hot
/// path is two loads and a slice, and the whole table is two allocations made once.
#[derive(Debug, Clone)]
pub(super) struct Subscriptions {
    /// `starts[i]..starts[i + 1]` is instrument `i`'s range in `strategies`.
    starts: Vec<u32>,
    strategies: Vec<StrategyId>,
}

impl Subscriptions {
    /// Asks every strategy about every instrument once.
    ///
    /// # Panics
    /// If there are more strategies than a [`StrategyId`] can number.
    pub(super) fn new(
        instruments: &InstrumentTable,
        strategies: &[Box<dyn Strategy>],
    ) -> Subscriptions {
        assert!(
            strategies.len() <= usize::from(u16::MAX) + 1,
            "more strategies than a StrategyId can number"
        );
        let mut starts = Vec::with_capacity(instruments.len() + 1);
        let mut ids = Vec::new();
        starts.push(0);
        for instrument in instruments.iter() {
            for (i, strategy) in strategies.iter().enumerate() {
                if strategy.subscribes(instrument) {
                    ids.push(StrategyId(i as u16));
                }
            }
            starts.push(ids.len() as u32);
        }
        Subscriptions {
            starts,
            strategies: ids,
        }
    }

    /// True when `instrument` is in the table the subscriptions were built from.
    #[inline]
    pub(super) fn knows(&self, instrument: InstrumentId) -> bool {
        instrument.index() + 1 < self.starts.len()
    }

    /// The strategies subscribed to `instrument` (none for an unknown instrument).
    #[inline]
    pub(super) fn of(&self, instrument: InstrumentId) -> &[StrategyId] {
        let i = instrument.index();
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.strategies[start as usize..end as usize],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Instrument, InstrumentKind},
        signal::test_support::table,
    };

    struct Kind(InstrumentKind);

    impl Strategy for Kind {
        fn name(&self) -> &'static str {
            "kind"
        }
        fn subscribes(&self, instrument: &Instrument) -> bool {
            instrument.kind == self.0
        }
    }

    #[test]
    fn lists_subscribers_per_instrument_in_id_order() {
        let strategies: Vec<Box<dyn Strategy>> = vec![
            Box::new(Kind(InstrumentKind::Option)),
            Box::new(Kind(InstrumentKind::Equity)),
            Box::new(Kind(InstrumentKind::Equity)),
        ];
        let subs = Subscriptions::new(&table(), &strategies);
        assert_eq!(subs.of(InstrumentId(0)), [StrategyId(1), StrategyId(2)]);
        assert_eq!(subs.of(InstrumentId(2)), []);
        assert_eq!(subs.of(InstrumentId(3)), [StrategyId(0)]);
        assert_eq!(subs.of(InstrumentId(4)), [StrategyId(1), StrategyId(2)]);
        assert!(subs.knows(InstrumentId(4)));
        assert!(!subs.knows(InstrumentId(5)));
        assert_eq!(subs.of(InstrumentId(5)), []);
        assert_eq!(subs.of(InstrumentId(u32::MAX)), []);
    }
}
