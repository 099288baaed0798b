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
    logging::LogLimiter,
    model::{Alert, AlertLevel},
};

/// Logs `alert` (its stream `event` gives the symbol and the human message), unless
/// its kind is over the per-minute limit.
pub(super) fn log_alert(limit: &mut LogLimiter, stage: StageId, alert: &Alert, event: &Value) {
    if !limit.admit(alert.kind) {
        return;
    }
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
