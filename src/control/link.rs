//! The control thread's end of one stage's control rings.

use std::collections::VecDeque;

use tickpipe_ringbuf::{channel, Consumer, Producer};

use crate::{
    model::{ControlCommand, ControlReply},
    runtime::ControlPort,
};

/// Commands that may wait in a stage's command ring. The control thread has at most one
/// outstanding per stage, plus any whose answers it stopped waiting for.
const COMMAND_RING: usize = 64;

/// The stages, in the order the control plane indexes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StageId {
    /// The feed.
    Feed = 0,
    /// The signal stage.
    Signal = 1,
    /// The risk stage.
    Risk = 2,
    /// The order stage.
    Order = 3,
}

impl StageId {
    /// Every stage, in pipeline order.
    pub const ALL: [StageId; 4] = [
        StageId::Feed,
        StageId::Signal,
        StageId::Risk,
        StageId::Order,
    ];

    /// The stage's name.
    pub const fn name(self) -> &'static str {
        match self {
            StageId::Feed => "feed",
            StageId::Signal => "signal",
            StageId::Risk => "risk",
            StageId::Order => "order",
        }
    }
}

/// Whose answer the next rows from a stage are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// The answer to the command of job `n`.
    Job(u64),
    /// An answer nobody waits for any more (it timed out): read and dropped.
    Stale,
}

/// What [`StageLink::poll`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// A row of the answer to job `n`'s command; `last` when it ends the answer.
    Row {
        /// The job.
        job: u64,
        /// The row.
        row: ControlReply,
        /// True for `Done` or `Refused`.
        last: bool,
    },
    /// Something the stage said unasked (a fill, an alert).
    Unasked(ControlReply),
}

/// The control thread's ends of one stage's rings, and which answers it waits for.
#[derive(Debug)]
pub struct StageLink {
    /// Which stage.
    pub stage: StageId,
    commands: Producer<ControlCommand>,
    replies: Consumer<ControlReply>,
    awaiting: VecDeque<Awaiting>,
}

impl StageLink {
    /// A stage's [`ControlPort`] and the control thread's link to it. The answer ring
    /// holds `2 × answer_room` rows (rounded up to a power of two); the port takes a
    /// command only when `answer_room` rows fit.
    pub fn pair(stage: StageId, answer_room: usize) -> (ControlPort, StageLink) {
        let (commands, command_rx) = channel(COMMAND_RING);
        let (reply_tx, replies) = channel((answer_room * 2).next_power_of_two().max(64));
        (
            ControlPort::new(command_rx, reply_tx, answer_room),
            StageLink {
                stage,
                commands,
                replies,
                awaiting: VecDeque::with_capacity(COMMAND_RING),
            },
        )
    }

    /// True once the stage has finished (it dropped its port) and every row it sent has
    /// been read: no answer will come.
    pub fn is_gone(&mut self) -> bool {
        self.replies.is_finished() && self.commands.is_abandoned()
    }

    /// Sends `command` for job `job`; false when the stage is gone or its ring is full
    /// (it has stopped reading commands).
    pub fn send(&mut self, job: u64, command: ControlCommand) -> bool {
        if self.commands.is_abandoned() || self.commands.try_push(command).is_err() {
            return false;
        }
        self.awaiting.push_back(Awaiting::Job(job));
        true
    }

    /// Stops waiting for job `job`'s answer; its rows are dropped when they come.
    pub fn abandon(&mut self, job: u64) {
        for a in &mut self.awaiting {
            if *a == Awaiting::Job(job) {
                *a = Awaiting::Stale;
            }
        }
    }

    /// The next row from the stage, if any.
    pub fn poll(&mut self) -> Option<Incoming> {
        loop {
            let row = self.replies.try_pop().ok()?;
            if matches!(row, ControlReply::Fill(_) | ControlReply::Alert(_)) {
                return Some(Incoming::Unasked(row));
            }
            let last = matches!(row, ControlReply::Done | ControlReply::Refused(_));
            let owner = self.awaiting.front().copied();
            if last {
                self.awaiting.pop_front();
            }
            match owner {
                Some(Awaiting::Job(job)) => return Some(Incoming::Row { job, row, last }),
                // A late answer, or rows of a command nobody sent through this link.
                Some(Awaiting::Stale) | None => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ControlRefusal;

    #[test]
    fn rows_go_to_the_job_that_asked_and_late_answers_are_dropped() {
        let (mut port, mut link) = StageLink::pair(StageId::Risk, 8);
        assert!(link.send(1, ControlCommand::Status));
        assert!(link.send(2, ControlCommand::Limits));
        link.abandon(1);
        assert_eq!(port.take_command(), Some(ControlCommand::Status));
        port.reply(ControlReply::Done);
        assert_eq!(port.take_command(), Some(ControlCommand::Limits));
        port.say(ControlReply::Refused(ControlRefusal::NotHere));
        assert_eq!(
            link.poll(),
            Some(Incoming::Row {
                job: 2,
                row: ControlReply::Refused(ControlRefusal::NotHere),
                last: true
            })
        );
        assert_eq!(link.poll(), None);
        assert!(!link.is_gone());
        drop(port);
        assert!(link.is_gone());
        assert!(!link.send(3, ControlCommand::Status));
    }
}
