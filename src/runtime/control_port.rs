//! A stage's end of its control rings: commands in, answers and alerts out.

use tickpipe_ringbuf::{channel, Consumer, Producer};

use crate::{
    metrics::LatencyHistogram,
    model::{Alert, ControlCommand, ControlRefusal, ControlReply},
};

/// Commands a stage takes per poll: enough for any operator, few enough that market
/// events are never held up behind a burst of commands.
pub const COMMANDS_PER_POLL: usize = 4;

/// The stage side of the control plane.
///
/// A stage calls [`ControlPort::take_command`] between market events. With no command waiting
/// that is one load of the command ring's producer index, which stays in the core's
/// cache while the control thread writes nothing, so an idle control plane costs a
/// stage next to nothing.
///
/// A command is taken only while the answer ring has room for a whole answer
/// (`answer_room` rows), so an answer is never cut short; the control thread reads
/// answers as they come. What a stage says unasked (fills, alerts) is pushed only when
/// there is room and otherwise dropped and counted: an operator's feed must never hold
/// up trading.
#[derive(Debug)]
pub struct ControlPort {
    commands: Consumer<ControlCommand>,
    replies: Producer<ControlReply>,
    answer_room: usize,
    dropped: u64,
    answering: bool,
}

impl ControlPort {
    /// A port over the two rings; a command waits until `answer_room` rows fit.
    ///
    /// # Panics
    /// If `answer_room` is zero or larger than the answer ring.
    pub fn new(
        commands: Consumer<ControlCommand>,
        replies: Producer<ControlReply>,
        answer_room: usize,
    ) -> ControlPort {
        assert!(
            answer_room > 0 && answer_room <= replies.capacity(),
            "answer room {answer_room} does not fit a ring of {}",
            replies.capacity()
        );
        ControlPort {
            commands,
            replies,
            answer_room,
            dropped: 0,
            answering: true,
        }
    }

    /// A port nobody talks to (unit tests, benchmarks, layouts without a control
    /// thread): no command ever arrives and answers go nowhere.
    pub fn detached() -> ControlPort {
        let (_, commands) = channel(64);
        let (replies, _) = channel(64);
        ControlPort::new(commands, replies, 1)
    }

    /// The next command, when one waits and a whole answer fits.
    #[inline]
    pub fn take_command(&mut self) -> Option<ControlCommand> {
        if self.commands.is_empty() || self.replies.slots() < self.answer_room {
            return None;
        }
        self.commands.try_pop().ok()
    }

    /// Whether [`ControlPort::reply`] sends (true, the default) or discards. A stage turns
    /// answering off while it carries out a command nobody asked through the port (one
    /// scheduled in the market stream), whose rows the control thread would otherwise take
    /// for the answer to its own command. Returns the previous setting.
    pub fn set_answering(&mut self, on: bool) -> bool {
        std::mem::replace(&mut self.answering, on)
    }

    /// One row of an answer. [`ControlPort::take_command`] made sure it fits.
    pub fn reply(&mut self, reply: ControlReply) {
        if self.answering && self.replies.try_push(reply).is_err() {
            self.dropped += 1;
        }
    }

    /// Something said unasked; dropped and counted when the ring has no room.
    #[inline]
    pub fn say(&mut self, reply: ControlReply) {
        if self.replies.try_push(reply).is_err() {
            self.dropped += 1;
        }
    }

    /// An alert, said unasked.
    #[inline]
    pub fn alert(&mut self, alert: Alert) {
        self.say(ControlReply::Alert(alert));
    }

    /// Rows dropped for want of room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Answers with one histogram's percentiles.
    pub fn reply_latency(&mut self, name: &'static str, h: &LatencyHistogram) {
        self.reply(ControlReply::Latency {
            name,
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.histogram().max(),
        });
    }

    /// Answers what every stage answers alike: `Latency` with `latencies`, `Counters`
    /// with `counters`; any other command is refused as not this stage's.
    pub fn reply_common(
        &mut self,
        command: ControlCommand,
        latencies: &[(&'static str, &LatencyHistogram)],
        counters: &[(&'static str, u64)],
    ) {
        match command {
            ControlCommand::Latency => {
                for &(name, h) in latencies {
                    self.reply_latency(name, h);
                }
            }
            ControlCommand::Counters => {
                for &(name, value) in counters {
                    self.reply(ControlReply::Counter { name, value });
                }
            }
            _ => {
                self.reply(ControlReply::Refused(ControlRefusal::NotHere));
                return;
            }
        }
        self.reply(ControlReply::Done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_wait_for_room_for_a_whole_answer() {
        let (mut cmd_tx, cmd_rx) = channel(64);
        let (reply_tx, mut reply_rx) = channel(64);
        let mut port = ControlPort::new(cmd_rx, reply_tx, 40);
        assert_eq!(port.take_command(), None);
        cmd_tx.try_push(ControlCommand::Status).unwrap();
        for _ in 0..30 {
            port.say(ControlReply::Done);
        }
        assert_eq!(port.take_command(), None, "34 free slots < 40");
        for _ in 0..30 {
            reply_rx.try_pop().unwrap();
        }
        assert_eq!(port.take_command(), Some(ControlCommand::Status));
        port.reply(ControlReply::Refused(ControlRefusal::NotHere));
        assert_eq!(
            reply_rx.try_pop(),
            Ok(ControlReply::Refused(ControlRefusal::NotHere))
        );
    }

    #[test]
    fn unasked_rows_are_dropped_and_counted_when_full() {
        let (_cmd_tx, cmd_rx) = channel(64);
        let (reply_tx, _reply_rx) = channel(64);
        let mut port = ControlPort::new(cmd_rx, reply_tx, 1);
        for _ in 0..70 {
            port.say(ControlReply::Done);
        }
        assert_eq!(port.dropped(), 6);
    }

    #[test]
    fn a_detached_port_is_silent() {
        let mut port = ControlPort::detached();
        assert_eq!(port.take_command(), None);
        port.reply(ControlReply::Done);
    }
}
