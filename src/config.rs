//! The engine's TOML configuration, validated once and completely at start.
//!
//! Each stage owns the struct of its own section; this module composes them, rejects
//! unknown keys, and collects every problem before reporting, so a user fixes a config
//! in one pass.

use std::fmt;

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
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}
