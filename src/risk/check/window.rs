//! Entries only before the last entry time of the day.

use super::{CheckContext, Proposal, Refusal, RiskCheck};
use crate::model::TimeOfDay;

/// Refuses entries at or after `last_entry` (IST, market time); exits always pass.
#[derive(Debug, Clone, Copy)]
pub struct EntryWindow {
    last_entry: TimeOfDay,
}

impl EntryWindow {
    /// Entries allowed strictly before `last_entry`.
    pub fn new(last_entry: TimeOfDay) -> EntryWindow {
        EntryWindow { last_entry }
    }
}

impl RiskCheck for EntryWindow {
    fn configure(&mut self, config: &crate::risk::RiskConfig) {
        self.last_entry = config.last_entry.min(config.square_off);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if proposal.is_entry() && ctx.time >= self.last_entry {
            return Err(Refusal::AfterLastEntry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Side},
        risk::{check::tests::*, position::Position},
    };

    #[test]
    fn the_boundary_is_exclusive() {
        let window = EntryWindow::new(TimeOfDay::hm(15, 0));
        let flat = Position::default();
        let at = |time| CheckContext {
            time,
            ..context(&flat)
        };
        let mut p = entry(Side::Sell, "100", "101");
        let just_before = TimeOfDay::from_secs(TimeOfDay::hm(15, 0).secs() - 1);
        assert_eq!(window.check(&mut p, &at(just_before)), Ok(()));
        assert_eq!(
            window.check(&mut p, &at(TimeOfDay::hm(15, 0))),
            Err(Refusal::AfterLastEntry)
        );
        p.reason = IntentReason::Exit;
        assert_eq!(window.check(&mut p, &at(TimeOfDay::hm(15, 20))), Ok(()));
    }
}
