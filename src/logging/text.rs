//! The `text` format: one line a person reads, in the engine's voice.
//!
//! `tickpipe: [level: ]message key=value ...`: the level is spelled out only when it is
//! not `info`, so the everyday lines read as they always have, and a warning stands
//! out. In a file each line starts with its UTC timestamp; on standard error it does
//! not, since a terminal needs none and journald stamps every line itself.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::{
    fmt::{
        format::Writer,
        time::{FormatTime, SystemTime},
        FmtContext, FormatEvent, FormatFields,
    },
    registry::LookupSpan,
};

/// The `text` event format.
#[derive(Debug, Clone, Copy)]
pub struct TextFormat {
    /// Start each line with an RFC 3339 UTC timestamp.
    pub timestamps: bool,
}

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if self.timestamps {
            SystemTime.format_time(&mut writer)?;
            writer.write_char(' ')?;
        }
        writer.write_str("tickpipe: ")?;
        let level = match *event.metadata().level() {
            Level::INFO => "",
            Level::WARN => "warning: ",
            Level::ERROR => "error: ",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        };
        writer.write_str(level)?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
