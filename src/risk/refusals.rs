//! Why a signal did not become an order, as a typed reason, and refusals counted by
//! reason without allocating.

use std::fmt;

/// Why a signal did not become an order.
///
/// A one-byte enum: a check hands it back on the hot path, [`RefusalCounts`] counts it
/// by its discriminant (an array index, no string compare), and reports and the control
/// plane name it with [`Refusal::as_str`]. Every reason a check can give is a variant,
/// so a new check adds a variant here and its name appears in every report.
///
/// # Examples
/// ```
/// use tickpipe::risk::Refusal;
/// assert_eq!(Refusal::ExposureLimit.as_str(), "exposure_limit");
/// assert_eq!(Refusal::from_name("daily_loss_limit"), Some(Refusal::DailyLossLimit));
/// assert_eq!(Refusal::ALL[Refusal::Cooldown.index()], Refusal::Cooldown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Refusal {
    /// Trading is halted: no strategy order at all (only the risk stage's own exits
    /// and the operator's closes trade).
    Halted,
    /// Trading is reduce-only: no new or larger position.
    ReduceOnly,
    /// The entry came at or after the last entry time of the day.
    AfterLastEntry,
    /// Another strategy holds the instrument (or has an entry in flight on it).
    OwnedByOther,
    /// An earlier order on the instrument awaits its final report.
    OrderInFlight,
    /// The signal carries no price to size an entry with, and the book has no quote.
    NoPrice,
    /// The stop is not below a long entry (or above a short one) once both are on the
    /// instrument's tick grid.
    StopWrongSide,
    /// The risk budget buys less than one lot at this stop distance.
    BelowOneLot,
    /// Less than one lot fits under the gross exposure cap.
    ExposureLimit,
    /// A `Flat` signal with no position.
    AlreadyFlat,
    /// A signal for the direction the position already has.
    AlreadyInPosition,
    /// The signal names an instrument outside the table.
    UnknownInstrument,
    /// The signal names a strategy outside the configured count.
    UnknownStrategy,
    /// The instrument cannot be traded (an index).
    NotTradable,
    /// Too many intents await their final reports.
    InFlightFull,
    /// The signal is older than `risk.signal_expiry_secs` of market time.
    SignalExpired,
    /// The instrument last filled less than `risk.cooldown_secs` ago.
    Cooldown,
    /// Less than one lot fits under the options exposure cap.
    OptionExposureLimit,
    /// Less than one lot fits under the cap on the instrument's sector.
    SectorLimit,
    /// The instrument and the positions it moves with would exceed the cluster limits.
    CorrelatedCluster,
    /// The day's net loss reached `risk.daily_loss_pct` of start-of-day equity: no new
    /// entries for the rest of the day.
    DailyLossLimit,
    /// The price to pay is outside `risk.price_band_pct` of the last trade.
    PriceBand,
    /// Less than one lot fits under `risk.max_order_value`.
    MaxOrderValue,
    /// The instrument's last tick is older than `risk.stale_quote_secs` of market
    /// time, or it has not ticked: no entry on a quote that stopped.
    StaleQuote,
    /// The whole live feed is stale (the `stale_feed` alert is up): no entry until
    /// `feed_recovered`.
    FeedStale,
}

impl Refusal {
    /// Every reason, in the order reports list them (by discriminant). New reasons are
    /// appended: a discriminant never changes meaning.
    pub const ALL: [Refusal; 25] = [
        Refusal::Halted,
        Refusal::ReduceOnly,
        Refusal::AfterLastEntry,
        Refusal::OwnedByOther,
        Refusal::OrderInFlight,
        Refusal::NoPrice,
        Refusal::StopWrongSide,
        Refusal::BelowOneLot,
        Refusal::ExposureLimit,
        Refusal::AlreadyFlat,
        Refusal::AlreadyInPosition,
        Refusal::UnknownInstrument,
        Refusal::UnknownStrategy,
        Refusal::NotTradable,
        Refusal::InFlightFull,
        Refusal::SignalExpired,
        Refusal::Cooldown,
        Refusal::OptionExposureLimit,
        Refusal::SectorLimit,
        Refusal::CorrelatedCluster,
        Refusal::DailyLossLimit,
        Refusal::PriceBand,
        Refusal::MaxOrderValue,
        Refusal::StaleQuote,
        Refusal::FeedStale,
    ];

    /// Number of reasons.
    pub const COUNT: usize = Refusal::ALL.len();

    /// Its slot in [`Refusal::ALL`] (the discriminant).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The snake-case name reports, the JSON summary and the control plane use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Refusal::Halted => "halted",
            Refusal::ReduceOnly => "reduce_only",
            Refusal::AfterLastEntry => "after_last_entry",
            Refusal::OwnedByOther => "owned_by_other_strategy",
            Refusal::OrderInFlight => "order_in_flight",
            Refusal::NoPrice => "no_reference_price",
            Refusal::StopWrongSide => "stop_on_wrong_side",
            Refusal::BelowOneLot => "below_one_lot",
            Refusal::ExposureLimit => "exposure_limit",
            Refusal::AlreadyFlat => "already_flat",
            Refusal::AlreadyInPosition => "already_in_position",
            Refusal::UnknownInstrument => "unknown_instrument",
            Refusal::UnknownStrategy => "unknown_strategy",
            Refusal::NotTradable => "not_tradable",
            Refusal::InFlightFull => "in_flight_table_full",
            Refusal::SignalExpired => "signal_expired",
            Refusal::Cooldown => "cooldown",
            Refusal::OptionExposureLimit => "option_exposure_limit",
            Refusal::SectorLimit => "sector_limit",
            Refusal::CorrelatedCluster => "correlated_cluster",
            Refusal::DailyLossLimit => "daily_loss_limit",
            Refusal::PriceBand => "price_band",
            Refusal::MaxOrderValue => "max_order_value",
            Refusal::StaleQuote => "stale_quote",
            Refusal::FeedStale => "stale_feed",
        }
    }

    /// The reason named `name` (off the hot path: tests and tools).
    pub fn from_name(name: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of refusals per reason: one array slot per [`Refusal`], so counting is an
/// index and an add.
#[derive(Debug, Clone, Default)]
pub struct RefusalCounts {
    counts: [u64; Refusal::COUNT],
    total: u64,
}

impl RefusalCounts {
    /// All reasons at zero.
    pub fn new() -> RefusalCounts {
        RefusalCounts::default()
    }

    /// Counts one refusal.
    pub fn count(&mut self, refusal: Refusal) {
        self.total += 1;
        self.counts[refusal.index()] += 1;
    }

    /// Refusals of one reason.
    pub fn get(&self, refusal: Refusal) -> u64 {
        self.counts[refusal.index()]
    }

    /// All refusals.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The reasons that occurred, with their counts, in [`Refusal::ALL`] order (off the
    /// hot path: the end-of-run report).
    pub fn to_vec(&self) -> Vec<(&'static str, u64)> {
        Refusal::ALL
            .iter()
            .filter(|r| self.get(**r) > 0)
            .map(|r| (r.as_str(), self.get(*r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_indices_match() {
        for (i, a) in Refusal::ALL.iter().enumerate() {
            assert_eq!(a.index(), i, "{a} is out of order in ALL");
            assert_eq!(Refusal::from_name(a.as_str()), Some(*a));
            for b in &Refusal::ALL[i + 1..] {
                assert_ne!(a.as_str(), b.as_str());
            }
        }
        assert_eq!(Refusal::from_name("no_such_reason"), None);
    }

    #[test]
    fn counts_by_reason_in_table_order() {
        let mut c = RefusalCounts::new();
        c.count(Refusal::ExposureLimit);
        c.count(Refusal::ExposureLimit);
        c.count(Refusal::Halted);
        c.count(Refusal::SectorLimit);
        assert_eq!(c.get(Refusal::ExposureLimit), 2);
        assert_eq!(c.get(Refusal::SectorLimit), 1);
        assert_eq!(c.get(Refusal::Cooldown), 0);
        assert_eq!(c.total(), 4);
        assert_eq!(
            c.to_vec(),
            [("halted", 1), ("exposure_limit", 2), ("sector_limit", 1)]
        );
    }
}
