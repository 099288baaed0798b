//! The six components of what a trade costs.

use crate::model::{Money, ValueError};

/// One paisa in raw units of [`Money`].
const PAISA: i128 = Money::from_rupees(1).raw() / 100;
/// One rupee in raw units of [`Money`].
const RUPEE: i128 = Money::from_rupees(1).raw();

/// Charges of a fill, an order, a position or a day, by component.
///
/// Amounts are exact to the 10^-8 rupee: each fill's charges are the published rates
/// times its value, truncated to that unit, and sums add them without rounding. What a
/// contract note or Zerodha's brokerage calculator shows rounds once, over a whole trade:
/// [`ChargeBreakdown::contract_note`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChargeBreakdown {
    /// The broker's fee.
    pub brokerage: Money,
    /// Securities transaction tax.
    pub stt: Money,
    /// The exchange's transaction charge.
    pub transaction: Money,
    /// SEBI's turnover fee.
    pub sebi: Money,
    /// Stamp duty.
    pub stamp: Money,
    /// GST on brokerage, transaction charge and SEBI fee.
    pub gst: Money,
}

impl ChargeBreakdown {
    /// Nothing charged.
    pub const ZERO: ChargeBreakdown = ChargeBreakdown {
        brokerage: Money::ZERO,
        stt: Money::ZERO,
        transaction: Money::ZERO,
        sebi: Money::ZERO,
        stamp: Money::ZERO,
        gst: Money::ZERO,
    };

    /// The sum of the six components.
    pub fn total(&self) -> Money {
        self.components().into_iter().map(|(_, m)| m).sum()
    }

    /// The components with their report names, in contract-note order.
    pub fn components(&self) -> [(&'static str, Money); 6] {
        [
            ("brokerage", self.brokerage),
            ("stt", self.stt),
            ("transaction", self.transaction),
            ("sebi", self.sebi),
            ("stamp", self.stamp),
            ("gst", self.gst),
        ]
    }

    /// Component by component `self + rhs`.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_add(&self, rhs: &ChargeBreakdown) -> Result<ChargeBreakdown, ValueError> {
        Ok(ChargeBreakdown {
            brokerage: self.brokerage.checked_add(rhs.brokerage)?,
            stt: self.stt.checked_add(rhs.stt)?,
            transaction: self.transaction.checked_add(rhs.transaction)?,
            sebi: self.sebi.checked_add(rhs.sebi)?,
            stamp: self.stamp.checked_add(rhs.stamp)?,
            gst: self.gst.checked_add(rhs.gst)?,
        })
    }

    /// The figures as a contract note (and Zerodha's brokerage calculator) show them for
    /// one trade: every component rounded half up to the paisa, STT to the rupee
    /// (Zerodha: "STT/CTT charged will be rounded off to the nearest rupee"), and GST
    /// recomputed at `gst_pct` on the rounded brokerage, transaction charge and SEBI fee.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::charges::ChargeBreakdown;
    /// let exact = ChargeBreakdown { stt: "62.75".parse().unwrap(),
    ///     transaction: "14.8797".parse().unwrap(), ..ChargeBreakdown::ZERO };
    /// let note = exact.contract_note("18".parse().unwrap());
    /// assert_eq!(note.stt, "63".parse().unwrap());
    /// assert_eq!(note.transaction, "14.88".parse().unwrap());
    /// assert_eq!(note.gst, "2.68".parse().unwrap()); // 18 % of 14.88 = 2.6784
    /// ```
    pub fn contract_note(&self, gst_pct: Money) -> ChargeBreakdown {
        let brokerage = round(self.brokerage, PAISA);
        let transaction = round(self.transaction, PAISA);
        let sebi = round(self.sebi, PAISA);
        let base = brokerage.saturating_add(transaction).saturating_add(sebi);
        ChargeBreakdown {
            brokerage,
            stt: round(self.stt, RUPEE),
            transaction,
            sebi,
            stamp: round(self.stamp, PAISA),
            gst: round(base.percent(gst_pct).unwrap_or(Money::ZERO), PAISA),
        }
    }
}

/// `m` rounded half away from zero to a multiple of `unit` raw units.
fn round(m: Money, unit: i128) -> Money {
    let raw = m.raw();
    let half = unit / 2;
    let rounded = if raw >= 0 {
        (raw + half) / unit
    } else {
        (raw - half) / unit
    };
    Money::from_raw(rounded * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round(money("0.005"), PAISA), money("0.01"));
        assert_eq!(round(money("0.00499999"), PAISA), money("0"));
        assert_eq!(round(money("-0.005"), PAISA), money("-0.01"));
        assert_eq!(round(money("16.5"), RUPEE), money("17"));
        assert_eq!(round(money("16.49"), RUPEE), money("16"));
    }

    #[test]
    fn sums_and_totals() {
        let a = ChargeBreakdown {
            brokerage: money("20"),
            stt: money("1.5"),
            gst: money("3.6"),
            ..ChargeBreakdown::ZERO
        };
        let b = a.checked_add(&a).unwrap();
        assert_eq!(b.brokerage, money("40"));
        assert_eq!(b.total(), money("50.2"));
        assert_eq!(ChargeBreakdown::ZERO.total(), Money::ZERO);
        let huge = ChargeBreakdown {
            stamp: Money::from_raw(i128::MAX),
            ..ChargeBreakdown::ZERO
        };
        assert_eq!(huge.checked_add(&huge), Err(ValueError::Overflow));
    }
}
