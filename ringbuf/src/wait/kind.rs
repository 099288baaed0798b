//! The wait strategies by name, for configuration.

use std::{fmt, str::FromStr};

use super::{BusySpin, SpinThenPark, SpinThenYield, WaitStrategy, Waker};

/// Which [`WaitStrategy`] a thread group uses; parsed from `"busy_spin"`,
/// `"spin_then_yield"` or `"spin_then_park"`.
///
/// ```
/// use tickpipe_ringbuf::wait::WaitKind;
///
/// let kind: WaitKind = "spin_then_yield".parse().unwrap();
/// assert_eq!(kind, WaitKind::SpinThenYield);
/// assert_eq!(kind.to_string(), "spin_then_yield");
/// assert!("sleep".parse::<WaitKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitKind {
    /// [`BusySpin`].
    BusySpin,
    /// [`SpinThenYield`] with its defaults.
    SpinThenYield,
    /// [`SpinThenPark`] with its defaults.
    SpinThenPark,
}

impl WaitKind {
    /// Every kind, in the order of the table in [`crate::wait`].
    pub const ALL: [WaitKind; 3] = [
        WaitKind::BusySpin,
        WaitKind::SpinThenYield,
        WaitKind::SpinThenPark,
    ];

    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            WaitKind::BusySpin => "busy_spin",
            WaitKind::SpinThenYield => "spin_then_yield",
            WaitKind::SpinThenPark => "spin_then_park",
        }
    }

    /// Builds the strategy with its defaults, and the [`Waker`] its producers must call
    /// (only [`WaitKind::SpinThenPark`] has one).
    ///
    /// ```
    /// use tickpipe_ringbuf::wait::WaitKind;
    ///
    /// assert!(WaitKind::BusySpin.build().1.is_none());
    /// assert!(WaitKind::SpinThenPark.build().1.is_some());
    /// ```
    pub fn build(self) -> (Box<dyn WaitStrategy>, Option<Waker>) {
        match self {
            WaitKind::BusySpin => (Box::new(BusySpin::new()), None),
            WaitKind::SpinThenYield => (Box::new(SpinThenYield::default()), None),
            WaitKind::SpinThenPark => {
                let strategy = SpinThenPark::default();
                let waker = strategy.waker();
                (Box::new(strategy), Some(waker))
            }
        }
    }
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WaitKind {
    type Err = ParseWaitKindError;

    fn from_str(s: &str) -> Result<WaitKind, ParseWaitKindError> {
        WaitKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| ParseWaitKindError {
                given: s.to_owned(),
            })
    }
}

/// A wait strategy name that is not one of [`WaitKind`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWaitKindError {
    given: String,
}

impl fmt::Display for ParseWaitKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown wait strategy {:?}; expected busy_spin, spin_then_yield or spin_then_park",
            self.given
        )
    }
}

impl std::error::Error for ParseWaitKindError {}
