//! What a configuration problem looks like: a key and a reason, collected into one error.
//!
//! A leaf module: every section's `validate` (in `feed/`, `signal/`, `risk/`, `control/`,
//! `runtime/`) pushes [`ConfigIssue`]s, and the composed file in
//! [`engine::EngineConfig`](crate::engine::EngineConfig) reports them all at once as a
//! [`ConfigError`]. It imports nothing of ours but the money type, so no section depends on the file that
//! composes it. Its helpers: `decimal` reads exact decimals ([`Money`](crate::model::Money))
//! for those sections, and [`ConfigVersion`] is the file's format, checked before
//! anything else is read so a file for a newer release is refused as such.

mod decimal;
mod version;

use std::fmt;

pub(crate) use decimal::{decimal, optional_decimal};
pub use version::{ConfigVersion, CONFIG_VERSION_KEY};

/// One problem found in a configuration: which key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted path of the offending key, e.g. `risk.max_exposure_pct`.
    pub key: String,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl ConfigIssue {
    /// An issue at `key`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> ConfigIssue {
        ConfigIssue {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// `issues` on one line, `; ` between them: for a caller whose error is a string.
    pub fn joined(issues: &[ConfigIssue]) -> String {
        issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

/// A configuration that could not be used: where it came from and every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file name (or `embedded default`).
    pub origin: String,
    /// The problems, each naming its key.
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration in {}:", self.origin)?;
        for issue in &self.issues {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
