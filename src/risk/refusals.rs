//! Refused signals counted by reason, without allocating.

use crate::risk::check::Refusal;

/// Room for reasons beyond [`Refusal::ALL`] that added checks may give.
const EXTRA_REASONS: usize = 16;

/// Counts of refusals per reason.
///
/// Every reason the stage knows is in the table from the start, and the table has room
/// for a few more, so counting never allocates; a reason that finds no room is counted
/// under `"other"`.
#[derive(Debug, Clone)]
pub struct RefusalCounts {
    counts: Vec<(&'static str, u64)>,
    other: u64,
    total: u64,
}

impl Default for RefusalCounts {
    fn default() -> Self {
        RefusalCounts::new()
    }
}

impl RefusalCounts {
    /// All known reasons at zero.
    pub fn new() -> RefusalCounts {
        let mut counts = Vec::with_capacity(Refusal::ALL.len() + EXTRA_REASONS);
        counts.extend(Refusal::ALL.iter().map(|r| (r.0, 0)));
        RefusalCounts {
            counts,
            other: 0,
            total: 0,
        }
    }

    /// Counts one refusal.
    pub fn count(&mut self, refusal: Refusal) {
        self.total += 1;
        if let Some((_, n)) = self.counts.iter_mut().find(|(r, _)| *r == refusal.0) {
            *n += 1;
        } else if self.counts.len() < self.counts.capacity() {
            self.counts.push((refusal.0, 1));
        } else {
            self.other += 1;
        }
    }

    /// Refusals of one reason.
    pub fn get(&self, refusal: Refusal) -> u64 {
        self.counts
            .iter()
            .find(|(r, _)| *r == refusal.0)
            .map_or(0, |(_, n)| *n)
    }

    /// All refusals.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The reasons that occurred, with their counts, in table order.
    pub fn to_vec(&self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<_> = self
            .counts
            .iter()
            .copied()
            .filter(|(_, n)| *n > 0)
            .collect();
        if self.other > 0 {
            out.push(("other", self.other));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_known_new_and_overflowing_reasons() {
        let mut c = RefusalCounts::new();
        c.count(Refusal::EXPOSURE_LIMIT);
        c.count(Refusal::EXPOSURE_LIMIT);
        c.count(Refusal::HALTED);
        c.count(Refusal("sector_limit"));
        assert_eq!(c.get(Refusal::EXPOSURE_LIMIT), 2);
        assert_eq!(c.get(Refusal("sector_limit")), 1);
        assert_eq!(
            c.to_vec(),
            [("halted", 1), ("exposure_limit", 2), ("sector_limit", 1)]
        );
        const NAMES: [&str; EXTRA_REASONS + 1] = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
        ];
        for name in NAMES {
            c.count(Refusal(name));
        }
        assert_eq!(c.total(), 4 + NAMES.len() as u64);
        assert_eq!(c.to_vec().last(), Some(&("other", 2)));
    }
}
