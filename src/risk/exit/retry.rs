//! Exits the venue refused, sent again later with exponential backoff in market time.

use crate::{
    model::{InstrumentId, IntentReason, Qty, UnixNanos},
    risk::RiskConfig,
};

/// One exit waiting for its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryDue {
    /// Market time from which it may be sent again.
    pub at: UnixNanos,
    /// Why the exit was sent in the first place (kept for the retry).
    pub reason: IntentReason,
    /// Units still to trade; the retry sends at most the open position.
    pub qty: Qty,
}

/// Refused exits per instrument, with the attempts so far.
///
/// After the `k`-th failure in a row the exit waits `exit_retry_ms × 2^(k−1)` of market
/// time, at most `exit_retry_max_ms`, and the stage goes on reading ticks meanwhile: a
/// venue that keeps refusing slows the retries down instead of holding the stage. At
/// `exit_max_attempts` failures the instrument is flagged (once; the stage alerts) and
/// retries go on at the longest delay, since the position is still at risk.
///
/// Checking for due retries is O(1) while nothing is due (one comparison with the
/// earliest due time); the instruments are scanned only when one is. Everything is
/// sized at construction.
#[derive(Debug, Clone)]
pub struct ExitRetry {
    due: Vec<Option<RetryDue>>,
    attempts: Vec<u32>,
    flagged: Vec<bool>,
    pending: usize,
    earliest: UnixNanos,
    base_nanos: u64,
    max_nanos: u64,
    max_attempts: u32,
    retries: u64,
    failed: u64,
}

impl ExitRetry {
    /// Retries for `instruments` instruments by the delays of `config`.
    pub fn new(instruments: usize, config: &RiskConfig) -> ExitRetry {
        ExitRetry {
            due: vec![None; instruments],
            attempts: vec![0; instruments],
            flagged: vec![false; instruments],
            pending: 0,
            earliest: UnixNanos(u64::MAX),
            base_nanos: u64::from(config.exit_retry_ms) * 1_000_000,
            max_nanos: u64::from(config.exit_retry_max_ms) * 1_000_000,
            max_attempts: config.exit_max_attempts.max(1),
            retries: 0,
            failed: 0,
        }
    }

    /// An exit of `id` was refused (or ended unfilled) at `now`: schedules the next
    /// attempt of `qty` units for `reason`. True exactly when this failure flags the
    /// instrument (the stage then alerts).
    pub fn failed(
        &mut self,
        id: InstrumentId,
        now: UnixNanos,
        reason: IntentReason,
        qty: Qty,
    ) -> bool {
        let i = id.index();
        let Some(attempts) = self.attempts.get_mut(i) else {
            return false;
        };
        *attempts = attempts.saturating_add(1);
        let doublings = (*attempts - 1).min(32);
        let delay = self
            .base_nanos
            .saturating_mul(1u64 << doublings)
            .min(self.max_nanos);
        let at = now.add_nanos(delay);
        if self.due[i].is_none() {
            self.pending += 1;
        }
        self.due[i] = Some(RetryDue { at, reason, qty });
        self.earliest = self.earliest.min(at);
        let newly_flagged = *attempts >= self.max_attempts && !self.flagged[i];
        if newly_flagged {
            self.flagged[i] = true;
            self.failed += 1;
        }
        newly_flagged
    }

    /// True when `id` waits for a retry (the stage's other exit triggers then leave it
    /// to the retry).
    pub fn is_pending(&self, id: InstrumentId) -> bool {
        self.due.get(id.index()).is_some_and(Option::is_some)
    }

    /// True when `id`'s exit failed `exit_max_attempts` times and has not filled since.
    pub fn is_flagged(&self, id: InstrumentId) -> bool {
        self.flagged.get(id.index()).copied().unwrap_or(false)
    }

    /// Failed attempts in a row at `id`'s exit.
    pub fn attempts(&self, id: InstrumentId) -> u32 {
        self.attempts.get(id.index()).copied().unwrap_or(0)
    }

    /// Removes and returns the first retry due at `now` (lowest instrument first, so the
    /// order is the same on every run).
    pub fn take_due(&mut self, now: UnixNanos) -> Option<(InstrumentId, RetryDue)> {
        if self.pending == 0 || now < self.earliest {
            return None;
        }
        let mut found = None;
        let mut earliest = UnixNanos(u64::MAX);
        for (i, slot) in self.due.iter().enumerate() {
            let Some(due) = slot else {
                continue;
            };
            if found.is_none() && due.at <= now {
                found = Some(i);
            } else {
                earliest = earliest.min(due.at);
            }
        }
        self.earliest = earliest;
        let i = found?;
        self.pending -= 1;
        self.retries += 1;
        self.due[i].take().map(|due| (InstrumentId(i as u32), due))
    }

    /// Puts back a retry [`ExitRetry::take_due`] returned that could not be sent now
    /// (no room); it is due again at once.
    pub fn put_back(&mut self, id: InstrumentId, due: RetryDue) {
        let i = id.index();
        if i < self.due.len() && self.due[i].is_none() {
            self.due[i] = Some(due);
            self.pending += 1;
            self.retries -= 1;
            self.earliest = self.earliest.min(due.at);
        }
    }

    /// Forgets `id`: its exit filled or the position is flat.
    pub fn clear(&mut self, id: InstrumentId) {
        let i = id.index();
        if i >= self.due.len() {
            return;
        }
        if self.due[i].take().is_some() {
            self.pending -= 1;
        }
        self.attempts[i] = 0;
        self.flagged[i] = false;
    }

    /// Exits sent again so far.
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// Instruments flagged so far (each time an exit reached `exit_max_attempts`).
    pub fn failed_exits(&self) -> u64 {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn retry() -> ExitRetry {
        let config = RiskConfig {
            exit_retry_ms: 100,
            exit_retry_max_ms: 500,
            exit_max_attempts: 3,
            ..RiskConfig::default()
        };
        ExitRetry::new(4, &config)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_flags_once() {
        let mut r = retry();
        let id = InstrumentId(2);
        let mut now = UnixNanos(1_000 * MS);
        let mut delays = Vec::new();
        let mut flags = Vec::new();
        for _ in 0..5 {
            flags.push(r.failed(id, now, IntentReason::StopLoss, Qty::new(7)));
            assert!(r.is_pending(id));
            let due = r.due[2].unwrap();
            delays.push((due.at.0 - now.0) / MS);
            assert_eq!(
                r.take_due(UnixNanos(due.at.0 - 1)),
                None,
                "not before its time"
            );
            let (got, taken) = r.take_due(due.at).unwrap();
            assert_eq!(
                (got, taken.reason, taken.qty),
                (id, IntentReason::StopLoss, Qty::new(7))
            );
            now = due.at;
        }
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(flags, [false, false, true, false, false]);
        assert!(r.is_flagged(id));
        assert_eq!((r.attempts(id), r.retries(), r.failed_exits()), (5, 5, 1));
        r.clear(id);
        assert!(!r.is_flagged(id) && !r.is_pending(id));
        assert_eq!(r.attempts(id), 0);
    }

    #[test]
    fn due_retries_come_lowest_instrument_first_and_can_be_put_back() {
        let mut r = retry();
        let now = UnixNanos(10 * MS);
        r.failed(InstrumentId(3), now, IntentReason::SquareOff, Qty::new(1));
        r.failed(InstrumentId(1), now, IntentReason::Target, Qty::new(2));
        r.failed(InstrumentId(1), now, IntentReason::Target, Qty::new(2)); // 200 ms
        let at = UnixNanos(now.0 + 100 * MS);
        let (first, due) = r.take_due(at).unwrap();
        assert_eq!(first, InstrumentId(3));
        r.put_back(first, due);
        assert_eq!(r.take_due(at).map(|(id, _)| id), Some(InstrumentId(3)));
        assert_eq!(r.take_due(at), None, "instrument 1 waits 200 ms");
        let later = UnixNanos(now.0 + 200 * MS);
        assert_eq!(r.take_due(later).map(|(id, _)| id), Some(InstrumentId(1)));
        assert_eq!(r.take_due(later), None);
        r.clear(InstrumentId(9));
        assert!(!r.failed(InstrumentId(9), now, IntentReason::Exit, Qty::new(1)));
    }
}
