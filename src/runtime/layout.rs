//! Which stage runs on which thread, on which core, waiting how.

use std::{fmt, str::FromStr};

use serde::Deserialize;
use tickpipe_ringbuf::wait::WaitKind;

use crate::config::ConfigIssue;

/// The four stages, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Market data in.
    Feed,
    /// Bars, indicators, strategies.
    Signal,
    /// Positions, limits, exits.
    Risk,
    /// Orders and the gateway.
    Order,
}

impl StageKind {
    /// All stages in pipeline order.
    pub const ALL: [StageKind; 4] = [
        StageKind::Feed,
        StageKind::Signal,
        StageKind::Risk,
        StageKind::Order,
    ];

    /// The stage's name as reports print it.
    pub const fn name(self) -> &'static str {
        match self {
            StageKind::Feed => "feed",
            StageKind::Signal => "signal",
            StageKind::Risk => "risk",
            StageKind::Order => "order",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thread: its stages (polled round-robin in this order), its core and wait strategy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Name for reports and the thread name.
    pub name: String,
    /// Stages on this thread.
    pub stages: Vec<StageKind>,
    /// Core to pin to; `None` leaves the thread to the OS scheduler.
    #[serde(default)]
    pub core: Option<usize>,
    /// What the thread does when a round found no work.
    #[serde(default = "default_wait", deserialize_with = "de_wait")]
    pub wait: WaitKind,
}

fn default_wait() -> WaitKind {
    WaitKind::SpinThenYield
}

fn de_wait<'de, D: serde::Deserializer<'de>>(d: D) -> Result<WaitKind, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown wait strategy `{text}`, expected busy_spin, spin_then_yield or spin_then_park"
        ))
    })
}

/// A named layout preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// All four stages on one thread: run to completion, no cross-core hop.
    OneGroup,
    /// feed+signal on one thread, risk+order on another (the 2-core default).
    TwoGroups,
    /// One thread per stage (four cores wanted).
    PerStage,
}

impl Preset {
    /// The preset's config name.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::OneGroup => "one_group",
            Preset::TwoGroups => "two_groups",
            Preset::PerStage => "per_stage",
        }
    }

    /// The groups of this preset, pinned round-robin to `cores` (none when empty).
    pub fn groups(self, cores: &[usize], wait: WaitKind) -> Vec<GroupSpec> {
        let sets: &[(&str, &[StageKind])] = match self {
            Preset::OneGroup => &[("pipeline", &StageKind::ALL)],
            Preset::TwoGroups => &[
                ("market", &[StageKind::Feed, StageKind::Signal]),
                ("trading", &[StageKind::Risk, StageKind::Order]),
            ],
            Preset::PerStage => &[
                ("feed", &[StageKind::Feed]),
                ("signal", &[StageKind::Signal]),
                ("risk", &[StageKind::Risk]),
                ("order", &[StageKind::Order]),
            ],
        };
        sets.iter()
            .enumerate()
            .map(|(i, (name, stages))| GroupSpec {
                name: (*name).to_owned(),
                stages: stages.to_vec(),
                core: if cores.is_empty() {
                    None
                } else {
                    Some(cores[i % cores.len()])
                },
                wait,
            })
            .collect()
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Preset, String> {
        match s {
            "one_group" => Ok(Preset::OneGroup),
            "two_groups" => Ok(Preset::TwoGroups),
            "per_stage" => Ok(Preset::PerStage),
            other => Err(format!(
                "unknown layout `{other}`, expected one_group, two_groups or per_stage"
            )),
        }
    }
}

/// A complete mapping of stages to threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The threads.
    pub groups: Vec<GroupSpec>,
}

impl Layout {
    /// Checks that every stage runs exactly once and every core exists.
    ///
    /// `available` is the list of core ids this process may run on.
    pub fn validate(&self, prefix: &str, available: &[usize], issues: &mut Vec<ConfigIssue>) {
        if self.groups.is_empty() {
            issues.push(ConfigIssue::new(prefix, "at least one group is needed"));
        }
        for stage in StageKind::ALL {
            let count = self
                .groups
                .iter()
                .flat_map(|g| &g.stages)
                .filter(|s| **s == stage)
                .count();
            if count != 1 {
                issues.push(ConfigIssue::new(
                    prefix,
                    format!("stage `{stage}` must be in exactly one group, found in {count}"),
                ));
            }
        }
        for (i, group) in self.groups.iter().enumerate() {
            if group.stages.is_empty() {
                issues.push(ConfigIssue::new(
                    format!("{prefix}[{i}].stages"),
                    "a group needs at least one stage",
                ));
            }
            if let Some(core) = group.core {
                check_core(&format!("{prefix}[{i}].core"), core, available, issues);
            }
        }
    }

    /// One line: `market[feed+signal]@0 trading[risk+order]@1 (spin_then_yield)`.
    pub fn describe(&self) -> String {
        self.groups
            .iter()
            .map(|g| {
                let stages: Vec<&str> = g.stages.iter().map(|s| s.name()).collect();
                let core = g
                    .core
                    .map_or("unpinned".to_owned(), |c| format!("core {c}"));
                format!("{}[{}] {core} {}", g.name, stages.join("+"), g.wait)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Core ids this process may be pinned to.
pub fn available_cores() -> Vec<usize> {
    core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Adds an issue under `key` when `core` is not one this process may run on
/// (`available`, from [`available_cores`]).
pub fn check_core(key: &str, core: usize, available: &[usize], issues: &mut Vec<ConfigIssue>) {
    if !available.contains(&core) {
        issues.push(ConfigIssue::new(
            key,
            format!(
                "core {core} is not available to this process (available: {})",
                describe_cores(available)
            ),
        ));
    }
}

fn describe_cores(cores: &[usize]) -> String {
    if cores.is_empty() {
        "none reported".to_owned()
    } else {
        cores
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_cover_every_stage_once() {
        for preset in [Preset::OneGroup, Preset::TwoGroups, Preset::PerStage] {
            let layout = Layout {
                groups: preset.groups(&[0, 1], WaitKind::BusySpin),
            };
            let mut issues = Vec::new();
            layout.validate("runtime", &[0, 1], &mut issues);
            assert!(issues.is_empty(), "{preset:?}: {issues:?}");
        }
    }

    #[test]
    fn missing_core_and_duplicate_stage_are_reported() {
        let mut groups = Preset::TwoGroups.groups(&[0, 7], WaitKind::BusySpin);
        groups[0].stages.push(StageKind::Risk);
        let layout = Layout { groups };
        let mut issues = Vec::new();
        layout.validate("runtime.groups", &[0, 1], &mut issues);
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.contains("core 7 is not available")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("`risk` must be in exactly one group, found in 2")),
            "{text:?}"
        );
    }
}
