//! The risk events of a run: trading-state changes with their reasons, limit hits and
//! forced exits, for the summary and `status`.

use crate::model::{IntentReason, StateReason, TradingState, UnixNanos};

/// State changes kept for the report; later ones are counted only.
const STATE_LOG: usize = 64;

/// Slots for forced-exit counts, by [`IntentReason`] discriminant.
const EXIT_REASONS: usize = 16;

/// One change of trading state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// Market time of the change.
    pub at: UnixNanos,
    /// The state before.
    pub from: TradingState,
    /// The state after.
    pub to: TradingState,
    /// Why.
    pub reason: StateReason,
}

/// Risk events counted as they happen, in preallocated storage.
#[derive(Debug, Clone)]
pub struct RiskEvents {
    changes: Vec<StateChange>,
    changes_not_logged: u64,
    /// Days the daily loss limit was hit.
    pub daily_loss_hits: u64,
    /// Drawdown warnings.
    pub drawdown_warnings: u64,
    /// Drawdown halts.
    pub drawdown_halts: u64,
    forced_exits: [u64; EXIT_REASONS],
}

impl Default for RiskEvents {
    fn default() -> Self {
        RiskEvents::new()
    }
}

impl RiskEvents {
    /// Nothing happened yet.
    pub fn new() -> RiskEvents {
        RiskEvents {
            changes: Vec::with_capacity(STATE_LOG),
            changes_not_logged: 0,
            daily_loss_hits: 0,
            drawdown_warnings: 0,
            drawdown_halts: 0,
            forced_exits: [0; EXIT_REASONS],
        }
    }

    /// Records a change of state (no allocation: the log is preallocated).
    pub fn state_changed(&mut self, change: StateChange) {
        if self.changes.len() < STATE_LOG {
            self.changes.push(change);
        } else {
            self.changes_not_logged += 1;
        }
    }

    /// Counts an exit the risk stage sent on its own or for the operator (stop-loss,
    /// square-off, `close`/`flatten`, the daily-loss flatten); strategies' exits and
    /// entries are not forced and are ignored.
    pub fn exit_sent(&mut self, reason: IntentReason) {
        if matches!(reason, IntentReason::Entry | IntentReason::Exit) {
            return;
        }
        if let Some(n) = self.forced_exits.get_mut(reason as usize) {
            *n += 1;
        }
    }

    /// The state changes logged, in order.
    pub fn changes(&self) -> &[StateChange] {
        &self.changes
    }

    /// All state changes, logged or not.
    pub fn change_count(&self) -> u64 {
        self.changes.len() as u64 + self.changes_not_logged
    }

    /// Forced exits of one reason.
    pub fn forced_exits(&self, reason: IntentReason) -> u64 {
        self.forced_exits.get(reason as usize).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_changes_and_counts_only_forced_exits() {
        let mut e = RiskEvents::new();
        for i in 0..STATE_LOG as u64 + 3 {
            e.state_changed(StateChange {
                at: UnixNanos(i),
                from: TradingState::Active,
                to: TradingState::Reducing,
                reason: StateReason::Operator,
            });
        }
        assert_eq!(e.changes().len(), STATE_LOG);
        assert_eq!(e.change_count(), STATE_LOG as u64 + 3);
        e.exit_sent(IntentReason::StopLoss);
        e.exit_sent(IntentReason::StopLoss);
        e.exit_sent(IntentReason::Exit);
        e.exit_sent(IntentReason::Entry);
        e.exit_sent(IntentReason::Manual);
        assert_eq!(e.forced_exits(IntentReason::StopLoss), 2);
        assert_eq!(e.forced_exits(IntentReason::Manual), 1);
        assert_eq!(e.forced_exits(IntentReason::Exit), 0);
    }
}
