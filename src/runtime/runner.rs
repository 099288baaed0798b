//! Starting stages on their threads as a [`Layout`] says, and collecting them again.

use std::{
    collections::BTreeMap,
    sync::{atomic::AtomicBool, Arc},
    thread::JoinHandle,
    time::Instant,
};

use tickpipe_ringbuf::wait::Waker;

use super::{Group, GroupReport, Layout, Stage, StageKind};

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A group thread could not be started.
    #[error("cannot start thread group `{group}`: {source}")]
    Spawn {
        /// The group.
        group: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A group thread failed (could not pin, or panicked).
    #[error("thread group failed: {0}")]
    Group(String),
    /// A side thread (the control server) could not start.
    #[error("cannot start the {what}: {source}")]
    Side {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// Stage groups built as a layout says, not yet running.
#[derive(Debug)]
pub struct Groups {
    groups: Vec<Group>,
    wakers: Vec<Waker>,
}

/// Stage groups running on their threads.
#[derive(Debug)]
pub struct Running {
    handles: Vec<JoinHandle<Result<GroupReport, String>>>,
    started: Instant,
}

impl Groups {
    /// Maps `stages` to groups as `layout` says (a stage the layout does not name is
    /// dropped).
    ///
    /// Each group wakes every other group after a round with work: with at most four
    /// groups this is cheaper than tracking which ring feeds which thread.
    pub fn new(mut stages: BTreeMap<StageKind, Box<dyn Stage>>, layout: &Layout) -> Groups {
        let mut groups = Vec::with_capacity(layout.groups.len());
        let mut wakers: Vec<Option<Waker>> = Vec::with_capacity(layout.groups.len());
        for spec in &layout.groups {
            let stages = spec
                .stages
                .iter()
                .filter_map(|k| stages.remove(k))
                .collect();
            let (wait, waker) = spec.wait.build();
            wakers.push(waker);
            groups.push(Group::new(spec.name.clone(), spec.core, stages, wait));
        }
        for (i, group) in groups.iter_mut().enumerate() {
            let others = wakers
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, w)| w.clone())
                .collect();
            group.wake_after_work(others);
        }
        Groups {
            groups,
            wakers: wakers.into_iter().flatten().collect(),
        }
    }

    /// Wakers of the groups that may park: whoever pushes work to a stage from outside
    /// the groups (the control thread) wakes them after pushing.
    pub fn wakers(&self) -> Vec<Waker> {
        self.wakers.clone()
    }

    /// Starts one thread per group.
    ///
    /// # Errors
    /// When a thread cannot be spawned (the threads already started are left to finish
    /// on their own once their rings close).
    pub fn spawn(self) -> Result<Running, RunError> {
        let started = Instant::now();
        let mut handles = Vec::with_capacity(self.groups.len());
        for group in self.groups {
            let name = format!("{group:?}");
            let handle = group.spawn().map_err(|source| RunError::Spawn {
                group: name,
                source,
            })?;
            handles.push(handle);
        }
        Ok(Running { handles, started })
    }
}

impl Running {
    /// True when every group has finished.
    pub fn is_finished(&self) -> bool {
        self.handles.iter().all(|h| h.is_finished())
    }

    /// When the groups were started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Waits for every group and returns their reports.
    ///
    /// # Errors
    /// When a group could not pin its thread, or panicked.
    pub fn join(self) -> Result<Vec<GroupReport>, RunError> {
        let mut reports = Vec::with_capacity(self.handles.len());
        for handle in self.handles {
            match handle.join() {
                Ok(Ok(report)) => reports.push(report),
                Ok(Err(e)) => return Err(RunError::Group(e)),
                Err(_) => return Err(RunError::Group("a stage thread panicked".to_owned())),
            }
        }
        Ok(reports)
    }
}

/// Sets `stop` on the first SIGINT/SIGTERM; a second one ends the process at once.
///
/// # Errors
/// When the handlers cannot be installed.
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::{
        consts::{SIGINT, SIGTERM},
        flag,
    };
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the conditional shutdown sees the flag set by an earlier signal.
        flag::register_conditional_shutdown(sig, 130, stop.clone())?;
        flag::register(sig, stop.clone())?;
    }
    Ok(())
}
