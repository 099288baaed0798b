//! Pinning benchmark threads to cores.

use core_affinity::CoreId;

/// The two cores a two-thread scenario runs on: the first two the OS reports, if it
/// reports at least two.
#[derive(Debug, Clone, Copy)]
pub struct CorePair {
    /// The producer's (or ping side's) core.
    pub first: CoreId,
    /// The consumer's (or pong side's) core.
    pub second: CoreId,
}

impl CorePair {
    /// Cores 0 and 1 (the first two reported), or `None` when fewer than two are present
    /// or the OS will not say.
    pub fn first_two() -> Option<CorePair> {
        let ids = core_affinity::get_core_ids()?;
        match ids.as_slice() {
            [first, second, ..] => Some(CorePair {
                first: *first,
                second: *second,
            }),
            _ => None,
        }
    }

    /// How the report describes the pinning.
    pub fn describe(pair: Option<CorePair>) -> String {
        match pair {
            Some(p) => format!("pinned to cores {} and {}", p.first.id, p.second.id),
            None => "not pinned (fewer than two cores reported)".to_owned(),
        }
    }
}

/// Pins the calling thread to `core` if given; returns whether pinning succeeded.
pub fn pin_current(core: Option<CoreId>) -> bool {
    core.is_some_and(core_affinity::set_for_current)
}
