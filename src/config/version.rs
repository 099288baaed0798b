//! `config_version`: which configuration format a file is written in.
//!
//! A release that meets a file written for a newer one refuses it by name instead of
//! reading it as best it can: a key a newer release added would be rejected as unknown
//! at best, and a key whose meaning changed would be misread at worst. The version is
//! read before anything else in the file, so the refusal says "newer format" rather than
//! listing the keys this build has never heard of. A file without the key is format 1,
//! so every file written before the key existed keeps working.
//!
//! The number goes up only when a file valid for the new release would be misread, or
//! refused, by an older one in a way its own errors would not explain: a key renamed or
//! given a new meaning or unit, a default that changes what an unchanged file trades. A
//! new optional key with the old behaviour as its default does not raise it (an older
//! release rejects the unknown key by name anyway).

use std::fmt;

use serde::Deserialize;

use super::ConfigIssue;

/// The top-level key naming the format.
pub const CONFIG_VERSION_KEY: &str = "config_version";

/// The configuration format of a file: `config_version = N` at its top, 1 when absent.
///
/// # Examples
/// ```
/// use tickpipe::config::ConfigVersion;
/// let table: toml::Table = "config_version = 1\n[risk]\n".parse().unwrap();
/// assert_eq!(ConfigVersion::of(&table), Ok(ConfigVersion::CURRENT));
/// let table: toml::Table = "[risk]\n".parse().unwrap();
/// assert_eq!(ConfigVersion::of(&table), Ok(ConfigVersion(1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(transparent)]
pub struct ConfigVersion(pub u32);

impl ConfigVersion {
    /// The newest format this build reads (and the one `config/default.toml` is in).
    pub const CURRENT: ConfigVersion = ConfigVersion(1);

    /// The format of a parsed file, checked: absent is 1; a whole number from 1 to
    /// [`ConfigVersion::CURRENT`] is that format.
    ///
    /// # Errors
    /// A [`ConfigIssue`] at `config_version` when the value is not a whole number, is
    /// below 1, or is newer than this build reads; the reason names the value found and
    /// the format this build reads.
    pub fn of(table: &toml::Table) -> Result<ConfigVersion, ConfigIssue> {
        let current = ConfigVersion::CURRENT.0;
        let issue = |reason: String| ConfigIssue::new(CONFIG_VERSION_KEY, reason);
        let Some(value) = table.get(CONFIG_VERSION_KEY) else {
            return Ok(ConfigVersion(1));
        };
        let toml::Value::Integer(n) = value else {
            return Err(issue(format!(
                "must be a whole number, the configuration format the file is written in \
                 (this build reads format {current}), got the {} {value}",
                value.type_str()
            )));
        };
        if *n < 1 {
            return Err(issue(format!(
                "is {n}; formats are numbered from 1 (this build reads format {current})"
            )));
        }
        if *n > i64::from(current) {
            return Err(issue(format!(
                "is {n}, but this build of tickpipe reads configuration format {current} \
                 at most: the file is written for a newer release. Run that release, or \
                 write the file for this one (its `tickpipe config` prints format {current})"
            )));
        }
        // Between 1 and `current`, so it fits.
        Ok(ConfigVersion(u32::try_from(*n).unwrap_or(current)))
    }
}

impl Default for ConfigVersion {
    /// A file without the key is format 1, the format of every file written before the
    /// key existed.
    fn default() -> ConfigVersion {
        ConfigVersion(1)
    }
}

impl fmt::Display for ConfigVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Result<ConfigVersion, ConfigIssue> {
        ConfigVersion::of(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn a_missing_key_is_format_one() {
        assert_eq!(version(""), Ok(ConfigVersion(1)));
        assert_eq!(version("[risk]\ncapital = 5\n"), Ok(ConfigVersion(1)));
    }

    #[test]
    fn the_current_format_is_read() {
        assert_eq!(version("config_version = 1\n"), Ok(ConfigVersion::CURRENT));
    }

    #[test]
    fn a_newer_format_is_refused_naming_both_versions() {
        let issue = version("config_version = 2\n[risk]\nnew_key = 1\n").unwrap_err();
        assert_eq!(issue.key, "config_version");
        assert!(issue.reason.starts_with("is 2, but"), "{issue}");
        assert!(issue.reason.contains("format 1 at most"), "{issue}");
        assert!(issue.reason.contains("newer release"), "{issue}");
    }

    #[test]
    fn a_value_that_is_not_a_whole_number_is_refused() {
        for (text, shown) in [
            ("config_version = \"1\"", "the string \"1\""),
            ("config_version = 1.5", "the float 1.5"),
            ("config_version = true", "the boolean true"),
        ] {
            let issue = version(text).unwrap_err();
            assert_eq!(issue.key, "config_version", "{text}");
            assert!(issue.reason.contains("whole number"), "{text}: {issue}");
            assert!(issue.reason.contains(shown), "{text}: {issue}");
            assert!(issue.reason.contains("reads format 1"), "{text}: {issue}");
        }
        for n in [0, -3] {
            let issue = version(&format!("config_version = {n}")).unwrap_err();
            assert!(issue.reason.starts_with(&format!("is {n};")), "{issue}");
        }
    }
}
