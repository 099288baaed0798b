//! A stage's end of its control rings: commands in, answers and alerts out.

use tickpipe_ringbuf::{channel, Consumer, Producer};

use crate::{
    metrics::LatencyHistogram,
    model::{Alert, AlertLevel, ControlCommand, ControlRefusal, ControlReply},
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
/// answers as they come. What a stage says unasked is pushed only when there is room,
/// since an operator's feed must never hold up trading:
///
/// - a fill for the fills stream that finds the ring full is dropped and counted
///   ([`ControlPort::stream_dropped`]); the fill itself is in the book and the journal;
/// - an alert that finds the ring full waits in a small backlog that is sent, in order,
///   before anything else the stage says and whenever it looks for a command. When the
///   backlog is full too, a critical alert takes the place of the oldest lesser one;
///   what is given up is counted ([`ControlPort::alerts_dropped`]). So a storm of stop
///   loss warnings during a burst of fills cannot push out the halt it leads to.
#[derive(Debug)]
pub struct ControlPort {
    commands: Consumer<ControlCommand>,
    replies: Producer<ControlReply>,
    answer_room: usize,
    /// Alerts waiting for room, oldest first (`backlog_len` of them from `backlog_head`).
    backlog: [Option<Alert>; ALERT_BACKLOG],
    backlog_head: usize,
    backlog_len: usize,
    alerts_dropped: u64,
    stream_dropped: u64,
    answering: bool,
}

/// Alerts a port holds while its answer ring is full: more than any burst of critical
/// alerts one event can raise, small enough to live inside the port (no allocation).
pub const ALERT_BACKLOG: usize = 32;

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
            backlog: [None; ALERT_BACKLOG],
            backlog_head: 0,
            backlog_len: 0,
            alerts_dropped: 0,
            stream_dropped: 0,
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
        if self.backlog_len > 0 {
            self.send_backlog();
        }
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
            self.stream_dropped += 1;
        }
    }

    /// Something said unasked (a fill for the fills stream); dropped and counted when
    /// the ring has no room. Alerts go through [`ControlPort::alert`].
    #[inline]
    pub fn say(&mut self, reply: ControlReply) {
        if let ControlReply::Alert(alert) = reply {
            self.alert(alert);
            return;
        }
        if self.backlog_len > 0 {
            self.send_backlog();
        }
        if self.replies.try_push(reply).is_err() {
            self.stream_dropped += 1;
        }
    }

    /// An alert, said unasked; held in the backlog when the ring has no room.
    #[inline]
    pub fn alert(&mut self, alert: Alert) {
        if self.backlog_len > 0 {
            self.send_backlog();
        }
        if self.backlog_len > 0 || self.replies.try_push(ControlReply::Alert(alert)).is_err() {
            self.hold(alert);
        }
    }

    /// Sends waiting alerts, oldest first, while the ring has room.
    #[cold]
    fn send_backlog(&mut self) {
        while self.backlog_len > 0 {
            let Some(alert) = self.backlog[self.backlog_head] else {
                unreachable!("a backlog slot inside its length is filled");
            };
            if self.replies.try_push(ControlReply::Alert(alert)).is_err() {
                return;
            }
            self.backlog[self.backlog_head] = None;
            self.backlog_head = (self.backlog_head + 1) % ALERT_BACKLOG;
            self.backlog_len -= 1;
        }
    }

    /// Puts `alert` at the end of the backlog. When it is full, a critical alert drops
    /// the oldest lesser one to make room; anything else is dropped itself.
    #[cold]
    fn hold(&mut self, alert: Alert) {
        if self.backlog_len == ALERT_BACKLOG {
            let lesser = (0..ALERT_BACKLOG)
                .map(|k| (self.backlog_head + k) % ALERT_BACKLOG)
                .find(|&i| self.backlog[i].is_some_and(|a| a.level < AlertLevel::Critical));
            self.alerts_dropped += 1;
            match lesser {
                Some(i) if alert.level == AlertLevel::Critical => {
                    // Close the gap: every later alert moves one place towards the head.
                    let mut at = i;
                    for _ in 0..ALERT_BACKLOG {
                        let next = (at + 1) % ALERT_BACKLOG;
                        if next == (self.backlog_head + self.backlog_len) % ALERT_BACKLOG {
                            break;
                        }
                        self.backlog[at] = self.backlog[next];
                        at = next;
                    }
                    self.backlog[at] = None;
                    self.backlog_len -= 1;
                }
                _ => return,
            }
        }
        let tail = (self.backlog_head + self.backlog_len) % ALERT_BACKLOG;
        self.backlog[tail] = Some(alert);
        self.backlog_len += 1;
    }

    /// Alerts given up for want of room (the ring and the backlog were full).
    pub fn alerts_dropped(&self) -> u64 {
        self.alerts_dropped
    }

    /// Unasked rows other than alerts (fills for the fills stream) dropped for want of
    /// room, plus answer rows that did not fit (none should).
    pub fn stream_dropped(&self) -> u64 {
        self.stream_dropped
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

impl Drop for ControlPort {
    /// A stage that ends with alerts in the backlog gives the control thread a moment
    /// (at most ~100 ms, on the way out, never while trading) to make room for them, so
    /// the last alerts of a day are not lost to a busy end. A port nobody reads (its ring's
    /// consumer is gone) does not wait.
    fn drop(&mut self) {
        for _ in 0..100 {
            self.send_backlog();
            if self.backlog_len == 0 || self.replies.is_abandoned() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if self.backlog_len > 0 {
            self.alerts_dropped += self.backlog_len as u64;
            tracing::warn!(
                alerts = self.backlog_len,
                "a stage ended with alerts the control thread never took"
            );
        }
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
        assert_eq!(port.stream_dropped(), 6);
        assert_eq!(port.alerts_dropped(), 0);
    }

    fn alert(kind: &'static str, level: AlertLevel) -> Alert {
        Alert {
            exchange_ts: crate::model::UnixNanos(1),
            kind,
            instrument: None,
            level,
            state: crate::model::TradingState::Active,
            detail: "",
        }
    }

    fn kinds(rx: &mut Consumer<ControlReply>) -> Vec<&'static str> {
        std::iter::from_fn(|| rx.try_pop().ok())
            .filter_map(|r| match r {
                ControlReply::Alert(a) => Some(a.kind),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn alerts_wait_in_the_backlog_and_go_out_in_order_before_later_rows() {
        let (_cmd_tx, cmd_rx) = channel(64);
        let (reply_tx, mut reply_rx) = channel(64);
        let mut port = ControlPort::new(cmd_rx, reply_tx, 1);
        for _ in 0..64 {
            port.say(ControlReply::Done);
        }
        port.alert(alert("first", AlertLevel::Warning));
        port.alert(alert("second", AlertLevel::Critical));
        port.say(ControlReply::Done);
        assert_eq!((port.alerts_dropped(), port.stream_dropped()), (0, 1));
        // The control thread reads two rows: the backlog goes out on the next look for
        // a command, ahead of anything said later.
        reply_rx.try_pop().unwrap();
        reply_rx.try_pop().unwrap();
        assert_eq!(port.take_command(), None);
        port.alert(alert("third", AlertLevel::Info));
        assert_eq!(kinds(&mut reply_rx), ["first", "second"]);
        port.say(ControlReply::Done);
        assert_eq!(kinds(&mut reply_rx), ["third"]);
    }

    #[test]
    fn a_critical_alert_takes_the_place_of_the_oldest_lesser_one_when_all_is_full() {
        let (_cmd_tx, cmd_rx) = channel(64);
        let (reply_tx, mut reply_rx) = channel(64);
        let mut port = ControlPort::new(cmd_rx, reply_tx, 1);
        for _ in 0..64 {
            port.say(ControlReply::Done);
        }
        port.alert(alert("halt_0", AlertLevel::Critical));
        for _ in 1..ALERT_BACKLOG {
            port.alert(alert("stop_loss", AlertLevel::Warning));
        }
        port.alert(alert("stop_loss_lost", AlertLevel::Warning));
        assert_eq!(port.alerts_dropped(), 1, "a lesser alert finds no room");
        port.alert(alert("halt_1", AlertLevel::Critical));
        assert_eq!(port.alerts_dropped(), 2, "the oldest warning made room");
        for _ in 0..64 {
            reply_rx.try_pop().unwrap();
        }
        assert_eq!(port.take_command(), None);
        let sent = kinds(&mut reply_rx);
        assert_eq!(sent.len(), ALERT_BACKLOG);
        assert_eq!(sent[0], "halt_0", "the critical one kept its place");
        assert_eq!(sent[ALERT_BACKLOG - 1], "halt_1", "the new one went last");
        assert_eq!(
            sent.iter().filter(|&&k| k == "stop_loss").count(),
            ALERT_BACKLOG - 2
        );
        assert!(!sent.contains(&"stop_loss_lost"));
    }

    #[test]
    fn a_detached_port_is_silent() {
        let mut port = ControlPort::detached();
        assert_eq!(port.take_command(), None);
        port.reply(ControlReply::Done);
    }
}
