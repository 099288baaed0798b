//! The shadow book: a shadowed strategy's signals traded on paper by the signal stage.

use crate::model::{Direction, Money, Price, Qty, Signal, StrategyId};

/// One paper position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PaperPosition {
    /// Entry price (zero: flat).
    entry: Price,
    /// Units.
    qty: u32,
    /// Long (true) or short.
    long: bool,
}

/// Paper positions per strategy and instrument, opened and closed at the price of the
/// strategy's own signals.
///
/// One position per strategy and instrument: `Long`/`Short` when flat opens one, the
/// same direction again changes nothing, the opposite direction closes it and opens the
/// other way (as the risk stage treats a reversal), `Flat` closes it. Each position
/// holds `notional` rupees' worth of units at its entry price (at least one unit), so
/// a strategy's shadow round trips weigh alike whatever the instrument's price; the
/// allocation rules read ratios of them, never absolute rupees. Protective stops and
/// the square-off are the risk stage's and are not simulated: a paper position ends
/// only on the strategy's own signal.
///
/// Sized once for every strategy and instrument; booking never allocates.
#[derive(Debug, Clone)]
pub struct ShadowBook {
    positions: Vec<PaperPosition>,
    instruments: usize,
    /// Rupees per position, in [`Money`] units.
    notional: Money,
}

impl ShadowBook {
    /// A flat book for `strategies` × `instruments`, `notional_rupees` a position.
    pub fn new(strategies: usize, instruments: usize, notional_rupees: f64) -> ShadowBook {
        let notional = Money::from_raw((notional_rupees.max(1.0) * Price::SCALE as f64) as i128);
        ShadowBook {
            positions: vec![PaperPosition::default(); strategies * instruments],
            instruments,
            notional,
        }
    }

    fn slot(&self, strategy: StrategyId, instrument: usize) -> usize {
        strategy.index() * self.instruments + instrument
    }

    /// Books `signal`; returns the P&L of the round trip it completed, if it did.
    /// Signals about instruments outside the book, or at a price of zero or less, are
    /// ignored.
    pub fn on_signal(&mut self, signal: &Signal) -> Option<Money> {
        let i = signal.instrument.index();
        if i >= self.instruments || !signal.price.is_positive() {
            return None;
        }
        let slot = self.slot(signal.strategy, i);
        let position = *self.positions.get(slot)?;
        let want_long = match signal.direction {
            Direction::Long => Some(true),
            Direction::Short => Some(false),
            Direction::Flat => None,
        };
        let open = position.qty > 0;
        if open && want_long == Some(position.long) {
            return None;
        }
        let closed = open.then(|| {
            let qty = Qty::new(position.qty);
            let gain = signal
                .price
                .notional(qty)
                .saturating_add(position.entry.notional(qty).neg());
            if position.long {
                gain
            } else {
                gain.neg()
            }
        });
        self.positions[slot] = match want_long {
            Some(long) => PaperPosition {
                entry: signal.price,
                qty: self.units_at(signal.price),
                long,
            },
            None => PaperPosition::default(),
        };
        closed
    }

    /// Units worth the notional at `price`: at least one.
    fn units_at(&self, price: Price) -> u32 {
        let units = self.notional.raw() / i128::from(price.raw().max(1));
        units.clamp(1, i128::from(u32::MAX)) as u32
    }

    /// Paper positions `strategy` holds.
    pub fn open_positions(&self, strategy: StrategyId) -> usize {
        let start = self.slot(strategy, 0);
        self.positions
            .get(start..start + self.instruments)
            .map_or(0, |p| p.iter().filter(|p| p.qty > 0).count())
    }

    /// Closes `strategy`'s paper positions without booking them (it leaves shadow, or
    /// enters it afresh).
    pub fn clear(&mut self, strategy: StrategyId) {
        let start = self.slot(strategy, 0);
        if let Some(positions) = self.positions.get_mut(start..start + self.instruments) {
            positions.fill(PaperPosition::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, Stamp, UnixNanos};

    fn signal(strategy: u16, instrument: u32, direction: Direction, rupees: i64) -> Signal {
        Signal {
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            price: Price::from_paise(rupees * 100),
            stop: Price::ZERO,
            target: Price::ZERO,
            instrument: InstrumentId(instrument),
            strategy: StrategyId(strategy),
            direction,
            weight_pct: Signal::FULL_WEIGHT,
        }
    }

    #[test]
    fn books_round_trips_at_signal_prices_with_a_notional_per_position() {
        // ₹10,000 a position: 100 units at ₹100.
        let mut book = ShadowBook::new(2, 3, 10_000.0);
        assert_eq!(book.on_signal(&signal(1, 2, Direction::Long, 100)), None);
        assert_eq!(
            book.on_signal(&signal(1, 2, Direction::Long, 90)),
            None,
            "held"
        );
        assert_eq!(book.open_positions(StrategyId(1)), 1);
        assert_eq!(book.open_positions(StrategyId(0)), 0);
        // Up ₹5 on 100 units.
        assert_eq!(
            book.on_signal(&signal(1, 2, Direction::Flat, 105)),
            Some(Money::from_rupees(500))
        );
        assert_eq!(book.on_signal(&signal(1, 2, Direction::Flat, 105)), None);
        // A short at ₹200 (50 units), reversed at ₹210: a ₹500 loss, then long.
        assert_eq!(book.on_signal(&signal(1, 0, Direction::Short, 200)), None);
        assert_eq!(
            book.on_signal(&signal(1, 0, Direction::Long, 210)),
            Some(Money::from_rupees(-500))
        );
        assert_eq!(book.open_positions(StrategyId(1)), 1);
        // Another strategy's position on the same instrument is its own.
        assert_eq!(book.on_signal(&signal(0, 0, Direction::Flat, 210)), None);
        book.clear(StrategyId(1));
        assert_eq!(book.open_positions(StrategyId(1)), 0);
        assert_eq!(book.on_signal(&signal(1, 0, Direction::Flat, 1)), None);
        // Dearer than the notional: one unit.
        assert_eq!(book.on_signal(&signal(0, 1, Direction::Long, 50_000)), None);
        assert_eq!(
            book.on_signal(&signal(0, 1, Direction::Flat, 50_001)),
            Some(Money::from_rupees(1))
        );
    }
}
