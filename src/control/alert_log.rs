//! Every alert the stages raise, logged once, where the control thread fans it out.
//!
//! The stages never log: they hand the alert to the control thread, which already turns
//! it into the `subscribe alerts` event and the alert command's run. Logging it here too
//! puts halts, loss limits, rejects and stale feeds in the service's log with their
//! fields, at the alert's level (`info`, `warning` as warn, `critical` as error), at
//! no cost to the stages. A storm of one kind is bounded by the log's per-kind limit.

use serde_json::Value;

use crate::{
    control::link::StageId,
    model::{Alert, AlertLevel},
};

/// Logs `alert` (its stream `event` gives the symbol and the human message). The
/// caller asked the log's per-kind limit first
/// ([`LogLimiter::admit`](crate::logging::LogLimiter::admit)), before making the event.
pub(super) fn log_alert(stage: StageId, alert: &Alert, event: &Value) {
    let symbol = event["symbol"].as_str().unwrap_or("");
    let message = event["message"].as_str().unwrap_or("");
    macro_rules! log {
        ($level:ident) => {
            tracing::$level!(
                source = stage.name(),
                kind = alert.kind,
                instrument = symbol,
                state = alert.state.as_str(),
                detail = alert.detail,
                market_time = %alert.exchange_ts,
                "alert: {message}"
            )
        };
    }
    match alert.level {
        AlertLevel::Info => log!(info),
        AlertLevel::Warning => log!(warn),
        AlertLevel::Critical => log!(error),
    }
}
