//! The exchange segment of an instrument token, and the price divisor it implies.
//!
//! Kite encodes the segment in the low byte of every instrument token
//! (`segment = token & 0xff`), and the wire carries every price as an integer count of
//! `1 / divisor` rupees, where the divisor depends only on that segment. Source:
//! PROTOCOLS.md §1.5 (kiteconnect `ticker.py` `_parse_binary`; the BCD and NCO rules come
//! from the clients, not the documentation).

use crate::model::Price;

/// The segment code of a Kite instrument token: its low byte.
///
/// Known codes: 1 NSE, 2 NFO, 3 CDS, 4 BSE, 5 BFO, 6 BCD, 7 MCX, 8 MCXSX, 9 indices,
/// 12 NCO. Any other value is still decoded, with the default divisor of 100, exactly as
/// the official client does.
///
/// # Examples
/// ```
/// use tickpipe::feed::kite::SegmentCode;
/// let cds = SegmentCode::of_token(0x0082_2803);
/// assert_eq!(cds.divisor(), 10_000_000);
/// assert_eq!(cds.price(12_345_678).to_string(), "1.2345678");
/// assert!(!SegmentCode::of_token(256_265).is_tradable()); // NIFTY 50, an index
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentCode(pub u8);

impl SegmentCode {
    /// NSE currency derivatives: prices in units of 10^-7.
    pub const CDS: SegmentCode = SegmentCode(3);
    /// BSE currency derivatives: prices in units of 10^-4.
    pub const BCD: SegmentCode = SegmentCode(6);
    /// Indices: quoted, never traded.
    pub const INDICES: SegmentCode = SegmentCode(9);
    /// NSE commodity derivatives: prices in units of 10^-4, like BCD.
    pub const NCO: SegmentCode = SegmentCode(12);

    /// The segment of `token` (its low byte).
    pub const fn of_token(token: u32) -> SegmentCode {
        SegmentCode((token & 0xff) as u8)
    }

    /// How many wire units make one rupee: 10^7 for CDS, 10^4 for BCD and NCO, 100 for
    /// every other code.
    pub const fn divisor(self) -> u32 {
        match self.0 {
            3 => 10_000_000,
            6 | 12 => 10_000,
            _ => 100,
        }
    }

    /// Raw [`Price`] units (10^-8) per wire unit: `Price::SCALE / divisor`, which is
    /// exact for all three divisors (10, 10^4 or 10^6).
    pub const fn price_units(self) -> i64 {
        Price::SCALE / self.divisor() as i64
    }

    /// The exact price of a wire value. The value is read as a signed 32-bit integer,
    /// as Kite documents it (negative prices are possible on commodity contracts); the
    /// product cannot overflow (|i32| × 10^6 < 2^63).
    pub const fn price(self, wire: i32) -> Price {
        Price::from_raw(wire as i64 * self.price_units())
    }

    /// The wire value of a price decoded by [`price`](Self::price) (its inverse).
    pub const fn wire(self, price: Price) -> i64 {
        price.raw() / self.price_units()
    }

    /// The price as the official client computes it, `wire as f64 / divisor` (one IEEE
    /// division), for display and for its `change` percentage only.
    pub fn price_f64(self, price: Price) -> f64 {
        self.wire(price) as f64 / f64::from(self.divisor())
    }

    /// False for indices (segment 9), which are quoted but cannot be traded.
    pub const fn is_tradable(self) -> bool {
        self.0 != Self::INDICES.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisors_follow_the_official_client() {
        for code in 0..=255u8 {
            let expected = match code {
                3 => 10_000_000,
                6 | 12 => 10_000,
                _ => 100,
            };
            assert_eq!(SegmentCode(code).divisor(), expected, "segment {code}");
            assert_eq!(SegmentCode(code).is_tradable(), code != 9);
        }
    }

    #[test]
    fn prices_are_exact_and_invertible() {
        let nse = SegmentCode(1);
        assert_eq!(nse.price(39_295).to_string(), "392.95");
        assert_eq!(nse.price(-1).to_string(), "-0.01");
        assert_eq!(nse.wire(nse.price(i32::MIN)), i64::from(i32::MIN));
        let bcd = SegmentCode::BCD;
        assert_eq!(bcd.price(834_567).to_string(), "83.4567");
        assert_eq!(bcd.price_f64(bcd.price(834_567)), 834_567.0 / 10_000.0);
    }
}
