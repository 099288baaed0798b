use crate::model::{InstrumentId, StrategyId};

/// An operator's command as it travels to the owning stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlCommand {
    /// Stop a strategy from opening positions (exits still flow).
    PauseStrategy(StrategyId),
    /// Let a paused strategy trade again.
    ResumeStrategy(StrategyId),
    /// Close the position in one instrument at market.
    Close(InstrumentId),
    /// Close every position at market.
    FlattenAll,
    /// Stop opening positions anywhere (kill switch); exits still flow.
    Halt,
    /// Lift a halt.
    Resume,
}

const _: () = assert!(std::mem::size_of::<ControlCommand>() <= 16);
