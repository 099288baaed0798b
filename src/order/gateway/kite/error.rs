//! What can go wrong talking to Kite Connect, and which refusal the order stage sees.
//!
//! Kite answers a failure with an HTTP 4xx/5xx and the envelope
//! `{"status":"error","message":..,"error_type":..}` (PROTOCOLS.md §2.9). The
//! `error_type` names an exception class; [`ErrorType`] holds them, and
//! [`ApiError::reject_reason`] maps each to a [`RejectReason`].

use std::fmt;

use crate::model::RejectReason;

/// Kite's exception classes (`error_type`), and the two this client adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// The session expired or was invalidated (403): log in again.
    Token,
    /// Missing or invalid parameters.
    Input,
    /// Order placement or fetch failed.
    Order,
    /// Not enough funds.
    Margin,
    /// Not enough holdings for a sell.
    Holding,
    /// Kite could not reach its order system: the order may or may not exist.
    Network,
    /// Kite could not understand its order system's answer.
    Data,
    /// The app may not do this.
    Permission,
    /// User account errors.
    User,
    /// Unclassified, or an exception name this client does not know.
    General,
    /// HTTP 429: a rate limit was hit.
    RateLimit,
    /// No answer: the connection failed, timed out, or the body was not Kite's.
    Transport,
}

impl ErrorType {
    /// The class named by `error_type` (unknown names are [`ErrorType::General`], as the
    /// official clients do).
    pub fn from_name(name: &str) -> ErrorType {
        match name {
            "TokenException" => ErrorType::Token,
            "InputException" => ErrorType::Input,
            "OrderException" => ErrorType::Order,
            "MarginException" => ErrorType::Margin,
            "HoldingException" => ErrorType::Holding,
            "NetworkException" => ErrorType::Network,
            "DataException" => ErrorType::Data,
            "PermissionException" => ErrorType::Permission,
            "UserException" => ErrorType::User,
            _ => ErrorType::General,
        }
    }

    /// The exception's name as Kite spells it.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorType::Token => "TokenException",
            ErrorType::Input => "InputException",
            ErrorType::Order => "OrderException",
            ErrorType::Margin => "MarginException",
            ErrorType::Holding => "HoldingException",
            ErrorType::Network => "NetworkException",
            ErrorType::Data => "DataException",
            ErrorType::Permission => "PermissionException",
            ErrorType::User => "UserException",
            ErrorType::General => "GeneralException",
            ErrorType::RateLimit => "rate limited (HTTP 429)",
            ErrorType::Transport => "no answer",
        }
    }
}

/// A failed Kite Connect request: the class, the HTTP status (0 when none came) and
/// Kite's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The exception class.
    pub kind: ErrorType,
    /// HTTP status; 0 for a transport failure.
    pub status: u16,
    /// Kite's `message` (or the transport error).
    pub message: String,
    /// True when the request certainly never reached Kite (connection refused, DNS),
    /// so sending it again cannot duplicate anything.
    pub unsent: bool,
}

impl ApiError {
    /// A transport failure.
    pub fn transport(message: String, unsent: bool) -> ApiError {
        ApiError {
            kind: ErrorType::Transport,
            status: 0,
            message,
            unsent,
        }
    }

    /// The refusal the order stage sees for a placement that failed so.
    ///
    /// Kite's `InputException` covers bad fields, tick and lot size; its messages about
    /// circuit limits, freeze quantity and market protection get their own reasons,
    /// since the order stage handles those differently (re-price, slice).
    pub fn reject_reason(&self) -> RejectReason {
        match self.kind {
            ErrorType::Margin | ErrorType::Holding => RejectReason::Margin,
            ErrorType::RateLimit => RejectReason::RateLimited,
            ErrorType::Network | ErrorType::Transport => RejectReason::Network,
            ErrorType::Input | ErrorType::Order => {
                reason_from_message(&self.message).unwrap_or(if self.kind == ErrorType::Input {
                    RejectReason::Invalid
                } else {
                    RejectReason::Venue
                })
            }
            ErrorType::Token
            | ErrorType::Data
            | ErrorType::Permission
            | ErrorType::User
            | ErrorType::General => RejectReason::Venue,
        }
    }

    /// True when a placement that failed so may nonetheless have been placed: the
    /// request left but no answer came (a dropped connection, a timeout), Kite said it
    /// could not reach its order system (`NetworkException`: "the order may or may not
    /// have been placed", PROTOCOLS.md §2.9), or a gateway in front of Kite answered
    /// 502/503/504. Such a placement is looked for in the order book before it is sent
    /// again.
    pub fn outcome_unknown(&self) -> bool {
        match self.kind {
            ErrorType::Transport => !self.unsent,
            ErrorType::Network => true,
            _ => matches!(self.status, 502..=504),
        }
    }

    /// True for failures worth trying again: 429, and a request that never left.
    pub fn is_retriable(&self) -> bool {
        self.kind == ErrorType::RateLimit || self.unsent
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == 0 {
            write!(f, "{}: {}", self.kind.name(), self.message)
        } else {
            write!(
                f,
                "{} (HTTP {}): {}",
                self.kind.name(),
                self.status,
                self.message
            )
        }
    }
}

impl std::error::Error for ApiError {}

/// A reason read from an order-system message (an `InputException` or a `REJECTED`
/// order's `status_message`), when it names one the order stage treats specially.
pub fn reason_from_message(message: &str) -> Option<RejectReason> {
    let m = message.to_ascii_lowercase();
    if m.contains("margin") || m.contains("insufficient funds") {
        Some(RejectReason::Margin)
    } else if m.contains("modification") && (m.contains("maximum") || m.contains("exceed")) {
        Some(RejectReason::ModifyLimit)
    } else if m.contains("freeze") {
        Some(RejectReason::FreezeQty)
    } else if m.contains("market protection") {
        Some(RejectReason::MarketProtection)
    } else if m.contains("circuit") || m.contains("price band") || m.contains("price range") {
        Some(RejectReason::PriceBand)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: &str, message: &str) -> ApiError {
        ApiError {
            kind: ErrorType::from_name(kind),
            status: 400,
            message: message.to_owned(),
            unsent: false,
        }
    }

    #[test]
    fn exceptions_map_to_reasons() {
        let cases = [
            (
                "TokenException",
                "Incorrect `api_key` or `access_token`.",
                RejectReason::Venue,
            ),
            (
                "InputException",
                "Invalid `tradingsymbol`",
                RejectReason::Invalid,
            ),
            (
                "InputException",
                "Price is outside the circuit limits",
                RejectReason::PriceBand,
            ),
            ("OrderException", "Order rejected", RejectReason::Venue),
            (
                "OrderException",
                "Quantity exceeds freeze limit",
                RejectReason::FreezeQty,
            ),
            (
                "MarginException",
                "Insufficient funds.",
                RejectReason::Margin,
            ),
            (
                "NetworkException",
                "Could not reach the OMS",
                RejectReason::Network,
            ),
            ("PermissionException", "No permission", RejectReason::Venue),
            ("GeneralException", "Unknown", RejectReason::Venue),
            ("DataException", "Bad data", RejectReason::Venue),
            ("SomethingNew", "?", RejectReason::Venue),
            (
                "InputException",
                "Maximum allowed order modifications exceeded.",
                RejectReason::ModifyLimit,
            ),
        ];
        for (kind, message, reason) in cases {
            assert_eq!(
                err(kind, message).reject_reason(),
                reason,
                "{kind}: {message}"
            );
        }
        assert!(!err("NetworkException", "x").is_retriable());
        assert!(ApiError::transport("refused".into(), true).is_retriable());
        assert!(err("NetworkException", "x").outcome_unknown());
        assert!(ApiError::transport("reset".into(), false).outcome_unknown());
        assert!(!ApiError::transport("refused".into(), true).outcome_unknown());
        assert!(!err("MarginException", "x").outcome_unknown());
        let gateway_timeout = ApiError {
            status: 504,
            ..err("GeneralException", "x")
        };
        assert!(gateway_timeout.outcome_unknown());
        assert_eq!(
            err("TokenException", "expired").to_string(),
            "TokenException (HTTP 400): expired"
        );
    }
}
