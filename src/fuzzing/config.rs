//! The configuration file: parsed, validated, and checked across sections as
//! `tickpipe config check` does.

use crate::{cli::config_check::consistency_issues, config::ConfigIssue, engine::EngineConfig};

/// Where a fuzzed configuration says it came from.
const ORIGIN: &str = "fuzz.toml";

/// A configuration file's bytes (invalid UTF-8 replaced, as a lossy reader would):
/// parsed, validated, then given the rules of `config check` that read the text only.
/// Its rules that look at this machine (readable files, creatable directories) are left
/// out: they would create probe files wherever the input points.
///
/// Checks, besides not panicking:
/// - a text that does not parse gives exactly one issue (the syntax or type error);
/// - every issue names a key and a reason, and the error prints with its origin;
/// - validating twice gives the same issues (nothing in it depends on state);
/// - [`EngineConfig::from_toml`] agrees with parsing then validating;
/// - a configuration that validates has a thread layout.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let config = match EngineConfig::parse_toml(&text, ORIGIN) {
        Ok(config) => config,
        Err(e) => {
            assert_eq!(e.issues.len(), 1, "one parse error, got {:?}", e.issues);
            check_issues(&e.issues);
            assert!(e.to_string().contains(ORIGIN));
            assert!(EngineConfig::from_toml(&text, ORIGIN).is_err());
            return;
        }
    };
    let validated = config.validate(ORIGIN);
    assert_eq!(
        validated,
        config.validate(ORIGIN),
        "validation is not repeatable"
    );
    assert_eq!(
        validated.is_ok(),
        EngineConfig::from_toml(&text, ORIGIN).is_ok(),
        "from_toml disagrees with parse_toml + validate"
    );
    let mut issues = match validated {
        Ok(()) => {
            config
                .layout()
                .unwrap_or_else(|e| panic!("a valid configuration without a layout: {e}"));
            Vec::new()
        }
        Err(e) => {
            assert!(!e.issues.is_empty(), "an error with no issue");
            assert!(e.to_string().contains(ORIGIN));
            e.issues
        }
    };
    consistency_issues(&config, &mut issues);
    check_issues(&issues);
    let _ = crate::signal::strategy_names(&config.strategy);
}

fn check_issues(issues: &[ConfigIssue]) {
    for issue in issues {
        assert!(!issue.key.is_empty(), "an issue with no key: {issue:?}");
        assert!(
            !issue.reason.is_empty(),
            "an issue with no reason: {issue:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_a_typo_and_bad_bytes_pass() {
        config(crate::engine::DEFAULT_TOML.as_bytes());
        config(b"[risk]\ncapitol = 5\n");
        config(b"[runtime]\nring_capacity = 3\n[order]\nproduct_equity = \"MIS\"\n");
        config(b"\xff[feed\n");
    }
}
