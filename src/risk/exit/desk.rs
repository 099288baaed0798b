//! Everything the risk stage keeps for its exits beyond the stop and the square-off, and
//! the decision it takes on each mark of a held instrument.

use crate::{
    model::{InstrumentId, InstrumentTable, IntentReason, Price, Qty, StrategyId, UnixNanos},
    risk::{
        exit::{
            ExitPlan, ExitRetry, ExitRules, ForcedExits, HaltExits, IndexFallWatch, PartialState,
            ScalingRules, ShutdownPolicy, TimeStops,
        },
        Position, RiskConfig,
    },
};

/// An exit the stage should send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitOrder {
    /// Why.
    pub reason: IntentReason,
    /// Units.
    pub qty: Qty,
}

/// The stage's exit state: a plan per instrument, the rules, the time stops per
/// strategy, refused exits waiting for a retry, the index watch and the counts. All of
/// it is sized at construction; nothing here allocates per event.
#[derive(Debug, Clone)]
pub struct ExitDesk {
    /// By instrument index.
    pub plans: Vec<ExitPlan>,
    /// `[risk]`'s target and trailing rules.
    pub rules: ExitRules,
    /// `[risk]`'s rules for adding to winners and cutting losers.
    pub scaling: ScalingRules,
    /// What still exits while trading is halted.
    pub halt_exits: HaltExits,
    /// Nanoseconds of market time a position of each strategy may stay open (by
    /// `StrategyId`); zero for none.
    pub time_stops: Vec<u64>,
    /// Refused exits waiting to be sent again.
    pub retry: ExitRetry,
    /// Forced exits sent, by kind.
    pub forced: ForcedExits,
    /// The index-fall watch of the emergency flatten.
    pub watch: IndexFallWatch,
    /// What a shutdown does to open positions.
    pub on_shutdown: ShutdownPolicy,
    /// True once the shutdown flatten was sent.
    pub shutdown_flattened: bool,
    /// `[risk.time_stop]` by strategy name, until the names are known.
    by_name: TimeStops,
}

impl ExitDesk {
    /// The exit state for `instruments` and `strategy_count` strategies by `config`;
    /// the time stops are set by [`ExitDesk::set_time_stops`] once the strategies'
    /// names are known.
    pub fn new(
        config: &RiskConfig,
        instruments: &InstrumentTable,
        strategy_count: usize,
    ) -> ExitDesk {
        let index = instruments.find(config.emergency.index.trim());
        ExitDesk {
            plans: vec![ExitPlan::default(); instruments.len()],
            rules: ExitRules::new(config),
            scaling: ScalingRules::new(config),
            halt_exits: config.halt_exits,
            time_stops: vec![0; strategy_count],
            retry: ExitRetry::new(instruments.len(), config),
            forced: ForcedExits::default(),
            watch: IndexFallWatch::new(index, &config.emergency),
            on_shutdown: config.on_shutdown,
            shutdown_flattened: false,
            by_name: config.time_stop.clone(),
        }
    }

    /// Reads `[risk.time_stop]` for the strategies named by id in `names`.
    pub fn set_time_stops(&mut self, names: &[&str]) {
        for (slot, name) in self.time_stops.iter_mut().zip(names) {
            *slot = self
                .by_name
                .get(*name)
                .map_or(0, |&minutes| u64::from(minutes) * 60 * 1_000_000_000);
        }
    }

    /// The exit plan of a position opened at `now` by an entry with `target`,
    /// `reference` and `stop`.
    pub fn opened(
        &mut self,
        id: InstrumentId,
        now: UnixNanos,
        target: Price,
        reference: Price,
        stop: Price,
    ) {
        if let Some(plan) = self.plans.get_mut(id.index()) {
            *plan = ExitPlan::opened(now, target, reference, stop);
        }
    }

    /// Forgets `id`'s plan and retries: the position is flat.
    pub fn closed(&mut self, id: InstrumentId) {
        if let Some(plan) = self.plans.get_mut(id.index()) {
            *plan = ExitPlan::default();
        }
        self.retry.clear(id);
    }

    /// The plan of `id`.
    pub fn plan(&self, id: InstrumentId) -> ExitPlan {
        self.plans.get(id.index()).copied().unwrap_or_default()
    }

    /// On a mark of held `position` in `id` (traded in lots of `lot`) at market time
    /// `now`, with no order in flight: moves the trailing stop, then decides whether to
    /// exit: the stop (the entry's, or one the stage moved: a trailing stop), then the
    /// strategy's time stop, then the target (the configured share, whole lots), then a
    /// cut of a loser (`risk.scale_out`). Returns the stop to keep and the exit to send,
    /// if any.
    pub fn on_mark(
        &mut self,
        id: InstrumentId,
        position: &Position,
        lot: u32,
        now: UnixNanos,
    ) -> (Price, Option<ExitOrder>) {
        let stop = position.stop();
        let Some(plan) = self.plans.get_mut(id.index()) else {
            return (stop, None);
        };
        let (net, mark) = (position.net(), position.mark());
        let next = self
            .rules
            .trail(plan, net, position.avg_price(), mark, stop);
        if next != stop {
            plan.stop_moved = true;
        }
        let open = position.open_qty();
        let stopped = next.is_positive()
            && mark.is_positive()
            && if net > 0 { mark <= next } else { mark >= next };
        if stopped {
            let reason = if plan.stop_moved {
                IntentReason::TrailingStop
            } else {
                IntentReason::StopLoss
            };
            return (next, Some(ExitOrder { reason, qty: open }));
        }
        let owner = position.owner().unwrap_or(StrategyId(u16::MAX));
        let limit = self.time_stops.get(owner.index()).copied().unwrap_or(0);
        if limit > 0 && now.0.saturating_sub(plan.opened_at.0) >= limit {
            let exit = ExitOrder {
                reason: IntentReason::TimeStop,
                qty: open,
            };
            return (next, Some(exit));
        }
        if self.rules.target_reached(plan, net, mark) {
            plan.partial = PartialState::Working;
            let exit = ExitOrder {
                reason: IntentReason::Target,
                qty: self.rules.partial_qty(open, lot),
            };
            return (next, Some(exit));
        }
        let cut = self
            .scaling
            .cut_due(plan, net, position.avg_price(), open, lot, mark);
        if let Some(qty) = cut {
            let exit = ExitOrder {
                reason: IntentReason::Reduce,
                qty,
            };
            return (next, Some(exit));
        }
        (next, None)
    }

    /// On a mark of held `position` in `id` that decided no exit: the units of an add
    /// to it, when one is due (`risk.scale_in`, see [`ScalingRules::add_due`]).
    pub fn add_due(&mut self, id: InstrumentId, position: &Position, lot: u32) -> Option<Qty> {
        let plan = self.plans.get_mut(id.index())?;
        self.scaling.add_due(
            plan,
            position.net(),
            position.open_qty(),
            lot,
            position.mark(),
        )
    }

    /// An add decided by [`ExitDesk::add_due`] was sent.
    pub fn added(&mut self, id: InstrumentId) {
        if let Some(plan) = self.plans.get_mut(id.index()) {
            self.scaling.added(plan);
        }
    }

    /// `exit`, decided by [`ExitDesk::on_mark`], could not be sent (no free in-flight
    /// slot): a target or a cut is decided again on the next mark.
    pub fn not_sent(&mut self, id: InstrumentId, exit: ExitOrder) {
        let Some(plan) = self.plans.get_mut(id.index()) else {
            return;
        };
        match exit.reason {
            IntentReason::Target => plan.partial = PartialState::Open,
            IntentReason::Reduce => plan.reduced = false,
            _ => {}
        }
    }

    /// The target's exit order on `id` got its final answer with `filled` units: what
    /// filled is booked and the rest trails from at least break-even; returns the stop
    /// to keep. Nothing filled: the target stays working (its retry sends it again).
    pub fn target_answered(&mut self, id: InstrumentId, position: &Position, filled: Qty) -> Price {
        let stop = position.stop();
        let Some(plan) = self.plans.get_mut(id.index()) else {
            return stop;
        };
        if filled.is_zero() || !position.is_open() {
            return stop;
        }
        plan.partial = PartialState::Booked;
        let next = self
            .rules
            .break_even(plan, position.net(), position.avg_price(), stop);
        if next != stop {
            plan.stop_moved = true;
        }
        next
    }
}
