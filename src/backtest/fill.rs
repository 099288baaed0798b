//! When and at what price an order decided on a bar is filled.

use std::{fmt, str::FromStr};

/// The fill rule for market orders on bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillAt {
    /// At the next bar's open (backtesting.py's default, `trade_on_close=False`): the
    /// decision needs the bar's close, so the earliest honest price is the next open.
    NextOpen,
    /// At the deciding bar's own close, booked on the deciding bar (backtesting.py's
    /// `trade_on_close=True`): optimistic, for comparison. As in the library the fill is
    /// processed when the next bar arrives, so the deciding bar's equity is marked
    /// before it (it differs only by the entry commission) and a decision on the last
    /// bar is never filled.
    Close,
}

impl FillAt {
    /// The command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FillAt::NextOpen => "next-open",
            FillAt::Close => "close",
        }
    }
}

impl fmt::Display for FillAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FillAt {
    type Err = String;

    fn from_str(s: &str) -> Result<FillAt, String> {
        match s {
            "next-open" => Ok(FillAt::NextOpen),
            "close" => Ok(FillAt::Close),
            other => Err(format!("`{other}`: the fill is `next-open` or `close`")),
        }
    }
}
