use std::fmt;

use super::ValueError;

/// An order or fill quantity in units: shares for equity, lots × lot size for F&O.
///
/// Unsigned: direction lives in [`Side`](super::Side). Positions, which are signed, are
/// kept as `i64` by the risk stage.
///
/// # Examples
/// ```
/// use tickpipe::model::Qty;
/// assert_eq!(Qty::new(75).round_down_to_lot(50), Qty::new(50));
/// assert!(Qty::new(0).is_zero());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Qty(u32);

impl Qty {
    /// Zero units.
    pub const ZERO: Qty = Qty(0);

    /// `units` units.
    pub const fn new(units: u32) -> Qty {
        Qty(units)
    }

    /// A quantity from a signed count.
    ///
    /// # Errors
    /// [`ValueError::Negative`] below zero, [`ValueError::Overflow`] above `u32::MAX`.
    pub fn try_from_i64(units: i64) -> Result<Qty, ValueError> {
        if units < 0 {
            return Err(ValueError::Negative);
        }
        u32::try_from(units)
            .map(Qty)
            .map_err(|_| ValueError::Overflow)
    }

    /// The count of units.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// True for zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The largest multiple of `lot` not above `self` (a zero lot counts as one).
    pub const fn round_down_to_lot(self, lot: u32) -> Qty {
        if lot <= 1 {
            return self;
        }
        Qty(self.0 - self.0 % lot)
    }

    /// `self + rhs`.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_add(self, rhs: Qty) -> Result<Qty, ValueError> {
        self.0
            .checked_add(rhs.0)
            .map(Qty)
            .ok_or(ValueError::Overflow)
    }

    /// `self - rhs`, saturating at zero.
    pub const fn saturating_sub(self, rhs: Qty) -> Qty {
        Qty(self.0.saturating_sub(rhs.0))
    }

    /// The smaller of two quantities.
    pub fn min(self, other: Qty) -> Qty {
        Qty(self.0.min(other.0))
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Qty({})", self.0)
    }
}
