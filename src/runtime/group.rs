//! A thread group: one thread polling one or more stages round-robin.

use std::{
    io,
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use tickpipe_ringbuf::wait::{WaitStats, WaitStrategy, Waker};

use super::{Poll, Stage, StageReport};

/// What a group hands back when all its stages are done.
#[derive(Debug)]
pub struct GroupReport {
    /// The group's name.
    pub name: String,
    /// Core it was pinned to, if any.
    pub core: Option<usize>,
    /// Each stage's report, in the order they finished.
    pub stages: Vec<StageReport>,
    /// How the thread waited.
    pub wait: WaitStats,
    /// Poll rounds in which some stage did work.
    pub busy_rounds: u64,
    /// Wall time from start to the last stage's finish.
    pub wall: Duration,
    /// CPU time the thread used (user + system), when the OS reports it.
    pub cpu: Option<Duration>,
}

/// A group ready to run: stages, wait strategy, and the wakers of the groups it feeds.
pub struct Group {
    name: String,
    core: Option<usize>,
    stages: Vec<Box<dyn Stage>>,
    wait: Box<dyn WaitStrategy>,
    downstream: Vec<Waker>,
    /// Whether [`Group::run_here`] reads the thread's CPU time (its report's `cpu`).
    cpu_time: bool,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.name)
            .field("core", &self.core)
            .field(
                "stages",
                &self.stages.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Group {
    /// A group of `stages`, polled in the given order.
    pub fn new(
        name: String,
        core: Option<usize>,
        stages: Vec<Box<dyn Stage>>,
        wait: Box<dyn WaitStrategy>,
    ) -> Group {
        Group {
            name,
            core,
            stages,
            wait,
            downstream: Vec::new(),
            cpu_time: true,
        }
    }

    /// A group whose report leaves its CPU time out (`cpu` is `None`). Reading it costs
    /// two reads of `/proc` per run, tens of microseconds: nothing for a trading day, but
    /// about a tenth of the time of a backtest day of minute bars, which builds and runs
    /// its pipeline afresh every day and reports no CPU time.
    pub fn without_cpu_time(mut self) -> Group {
        self.cpu_time = false;
        self
    }

    /// Groups to wake after a round in which this group did work (they may be parked
    /// waiting for what it pushed).
    pub fn wake_after_work(&mut self, wakers: Vec<Waker>) {
        self.downstream = wakers;
    }

    /// Polls every stage once; finished stages are removed and their reports kept.
    /// Returns the work done.
    pub fn round(&mut self, reports: &mut Vec<StageReport>) -> usize {
        let mut work = 0;
        let mut i = 0;
        while i < self.stages.len() {
            match self.stages[i].poll() {
                Poll::Work(n) => work += n.max(1),
                Poll::Idle => {}
                Poll::Done => {
                    let stage = self.stages.remove(i);
                    reports.push(stage.finish());
                    work += 1;
                    continue;
                }
            }
            i += 1;
        }
        work
    }

    /// True when every stage has finished.
    pub fn is_finished(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs on the calling thread until every stage is done. Does not pin.
    pub fn run_here(mut self) -> GroupReport {
        let started = Instant::now();
        let cpu_start = if self.cpu_time {
            thread_cpu_time()
        } else {
            None
        };
        let mut reports = Vec::with_capacity(self.stages.len());
        let mut busy_rounds = 0u64;
        while !self.stages.is_empty() {
            let mut worked = self.round(&mut reports) > 0;
            if !worked {
                let stages = &mut self.stages;
                self.wait.wait(&mut || {
                    // A parking strategy's last look before sleeping. Work done here is
                    // real work; a stage that finishes here says Done again on the next
                    // round, where it is collected.
                    worked = stages.iter_mut().any(|s| s.poll() != Poll::Idle);
                    worked
                });
            }
            if worked {
                busy_rounds += 1;
                self.wait.reset();
                for w in &self.downstream {
                    w.wake();
                }
            }
        }
        let cpu = match cpu_start {
            Some(a) => thread_cpu_time().and_then(|b| b.checked_sub(a)),
            None => None,
        };
        GroupReport {
            name: self.name,
            core: self.core,
            stages: reports,
            wait: self.wait.stats(),
            busy_rounds,
            wall: started.elapsed(),
            cpu,
        }
    }

    /// Starts the group on its own thread, pinned to its core if it has one.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn spawn(self) -> io::Result<JoinHandle<Result<GroupReport, String>>> {
        let name = self.name.clone();
        thread::Builder::new().name(name.clone()).spawn(move || {
            if let Some(core) = self.core {
                if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
                    return Err(format!(
                        "group `{name}`: could not pin the thread to core {core}"
                    ));
                }
            }
            Ok(self.run_here())
        })
    }
}

/// CPU time of the calling thread, from `/proc/thread-self/stat` (Linux); `None` elsewhere.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform tickpipe targets.
    Some(Duration::from_millis((utime + stime) * 10))
}
