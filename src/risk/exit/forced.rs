//! Exits the risk stage forced on its own, counted by kind for the run summary.

use crate::model::IntentReason;

/// The kinds of forced exit, in the order the summary lists them.
pub const FORCED_KINDS: [IntentReason; 7] = [
    IntentReason::StopLoss,
    IntentReason::TrailingStop,
    IntentReason::Target,
    IntentReason::Reduce,
    IntentReason::TimeStop,
    IntentReason::SquareOff,
    IntentReason::Emergency,
];

/// Forced exits sent, by kind: each decision counts once, however many attempts its
/// order needed (retries are counted apart, by [`ExitRetry`](super::ExitRetry)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForcedExits {
    counts: [u64; FORCED_KINDS.len()],
}

impl ForcedExits {
    /// Counts one exit for `reason`; reasons that are not forced exits (entries, the
    /// strategies' and the operator's exits) are ignored.
    pub fn count(&mut self, reason: IntentReason) {
        if let Some(i) = FORCED_KINDS.iter().position(|&k| k == reason) {
            self.counts[i] += 1;
        }
    }

    /// Exits of one kind so far.
    pub fn get(&self, reason: IntentReason) -> u64 {
        FORCED_KINDS
            .iter()
            .position(|&k| k == reason)
            .map_or(0, |i| self.counts[i])
    }

    /// Every kind with its count, zeros included, for reports.
    pub fn to_vec(&self) -> Vec<(&'static str, u64)> {
        FORCED_KINDS
            .iter()
            .zip(self.counts)
            .map(|(k, n)| (k.as_str(), n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_forced_kinds_only() {
        let mut f = ForcedExits::default();
        f.count(IntentReason::Target);
        f.count(IntentReason::Target);
        f.count(IntentReason::Entry);
        f.count(IntentReason::Manual);
        f.count(IntentReason::Emergency);
        assert_eq!(f.get(IntentReason::Target), 2);
        assert_eq!(f.get(IntentReason::Manual), 0);
        assert_eq!(
            f.to_vec(),
            [
                ("stop_loss", 0),
                ("trailing_stop", 0),
                ("target", 2),
                ("reduce", 0),
                ("time_stop", 0),
                ("square_off", 0),
                ("emergency", 1)
            ]
        );
    }
}
