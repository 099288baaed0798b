//! Five levels of market depth per side, from a full-mode packet.
//!
//! Depth is its own type, not part of [`Tick`](crate::model::Tick): ring messages stay
//! within one 64-byte cache line, and ten levels take 160 bytes. The quote path reads
//! only the best level of each side from it.
//!
//! Layout (PROTOCOLS.md §1.6): bytes 64..184 of a 184-byte packet hold 10 entries of 12
//! bytes, `quantity u32`, `price i32 ÷ divisor`, `orders u16`, 2 bytes of padding;
//! entries 0–4 are bids (best first), 5–9 offers (best first). Empty levels are zeros.

use super::{
    packet::{be_i32, be_u16, be_u32},
    DecodeError, Layout, SegmentCode,
};
use crate::model::Price;

/// Levels per side.
pub const DEPTH_LEVELS: usize = 5;

const DEPTH_OFFSET: usize = 64;
const ENTRY_LEN: usize = 12;

/// One price level of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DepthLevel {
    /// Quantity at this price.
    pub quantity: u32,
    /// The price (zero for an empty level).
    pub price: Price,
    /// Number of orders at this price.
    pub orders: u16,
}

/// Five bid and five offer levels of one instrument, best first, empty levels kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    /// Bids, best (highest) first.
    pub buy: [DepthLevel; DEPTH_LEVELS],
    /// Offers, best (lowest) first.
    pub sell: [DepthLevel; DEPTH_LEVELS],
}

impl Depth {
    /// Decodes the depth of a 184-byte full-mode packet (without its length prefix).
    ///
    /// # Errors
    /// [`DecodeError::TooShort`] or [`DecodeError::UnknownLength`] when `bytes` is not
    /// a 184-byte packet (no other layout carries depth).
    pub fn decode(bytes: &[u8]) -> Result<Depth, DecodeError> {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        if bytes.len() < 4 {
            return Err(DecodeError::TooShort { len });
        }
        if Layout::of_len(bytes.len()) != Some(Layout::Full) {
            return Err(DecodeError::UnknownLength { len });
        }
        let seg = SegmentCode::of_token(be_u32(bytes, 0));
        let level = |i: usize| {
            let at = DEPTH_OFFSET + ENTRY_LEN * i;
            DepthLevel {
                quantity: be_u32(bytes, at),
                price: seg.price(be_i32(bytes, at + 4)),
                orders: be_u16(bytes, at + 8),
            }
        };
        Ok(Depth {
            buy: std::array::from_fn(level),
            sell: std::array::from_fn(|i| level(DEPTH_LEVELS + i)),
        })
    }

    /// The best bid, if the buy side has a level with a positive quantity.
    pub fn best_bid(&self) -> Option<DepthLevel> {
        Some(self.buy[0]).filter(|l| l.quantity > 0)
    }

    /// The best offer, if the sell side has a level with a positive quantity.
    pub fn best_ask(&self) -> Option<DepthLevel> {
        Some(self.sell[0]).filter(|l| l.quantity > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_into_buy_then_sell() {
        let mut b = [0u8; 184];
        b[0..4].copy_from_slice(&408_065u32.to_be_bytes());
        for i in 0..10u32 {
            let at = 64 + 12 * i as usize;
            b[at..at + 4].copy_from_slice(&(100 + i).to_be_bytes());
            b[at + 4..at + 8].copy_from_slice(&(157_000 + i).to_be_bytes());
            b[at + 8..at + 10].copy_from_slice(&(i as u16 + 1).to_be_bytes());
        }
        let d = Depth::decode(&b).unwrap();
        assert_eq!(d.buy[0].quantity, 100);
        assert_eq!(d.buy[4].price.to_string(), "1570.04");
        assert_eq!(d.sell[0].orders, 6);
        assert_eq!(d.best_ask().unwrap().quantity, 105);
        assert_eq!(
            Depth::decode(&b[..44]),
            Err(DecodeError::UnknownLength { len: 44 })
        );
    }
}
