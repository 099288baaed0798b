//! Names the control plane speaks in: symbols and strategy names to ids and back, and
//! operator requests resolved to the commands the stages take.

use std::collections::HashMap;

use crate::{
    control::Request,
    model::{
        ControlCommand, InstrumentId, InstrumentTable, LimitKey, Qty, StrategyId, TradingState,
    },
    risk::RiskConfig,
};

/// Symbols and strategy names of a running engine.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    symbols: Vec<String>,
    by_symbol: HashMap<String, InstrumentId>,
    strategies: Vec<&'static str>,
}

/// Why a request cannot become a command: an error code of the protocol and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The protocol's error code (`unknown_symbol`, `unknown_strategy`, `bad_value`, ...).
    pub code: &'static str,
    /// What is wrong, for the operator.
    pub message: String,
}

impl Unresolved {
    fn new(code: &'static str, message: String) -> Unresolved {
        Unresolved { code, message }
    }
}

impl Catalog {
    /// The names of `instruments` and of `strategies` (indexed by [`StrategyId`]).
    pub fn new(instruments: &InstrumentTable, strategies: &[&'static str]) -> Catalog {
        let symbols: Vec<String> = instruments.iter().map(|i| i.symbol.clone()).collect();
        let by_symbol = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_ascii_uppercase(), InstrumentId(i as u32)))
            .collect();
        Catalog {
            symbols,
            by_symbol,
            strategies: strategies.to_vec(),
        }
    }

    /// The instrument called `symbol` (case does not matter).
    pub fn instrument(&self, symbol: &str) -> Option<InstrumentId> {
        self.by_symbol.get(&symbol.to_ascii_uppercase()).copied()
    }

    /// The symbol of `id` (`#<id>` for an id outside the table).
    pub fn symbol(&self, id: InstrumentId) -> String {
        self.symbols
            .get(id.index())
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.0))
    }

    /// The strategy called `name`.
    pub fn strategy(&self, name: &str) -> Option<StrategyId> {
        self.strategies
            .iter()
            .position(|s| *s == name)
            .map(|i| StrategyId(i as u16))
    }

    /// The name of `id` (`#<id>` outside the list).
    pub fn strategy_name(&self, id: StrategyId) -> String {
        self.strategies
            .get(id.index())
            .map_or_else(|| format!("#{}", id.0), |s| (*s).to_owned())
    }

    /// Every strategy name, by id.
    pub fn strategies(&self) -> &[&'static str] {
        &self.strategies
    }

    /// Resolves a state-changing request to the command its owning stage takes. `limits`
    /// is the risk configuration in force: a `set` is checked by applying it to a copy and
    /// validating that exactly as a configuration file is validated.
    ///
    /// # Errors
    /// An [`Unresolved`] naming what is unknown or invalid.
    pub fn resolve(
        &self,
        request: &Request,
        limits: &RiskConfig,
    ) -> Result<ControlCommand, Unresolved> {
        let strategy = |name: &str| {
            self.strategy(name).ok_or_else(|| {
                Unresolved::new(
                    "unknown_strategy",
                    format!(
                        "no strategy `{name}`; running: {}",
                        self.strategies.join(", ")
                    ),
                )
            })
        };
        Ok(match request {
            Request::Pause(name) => ControlCommand::Pause(strategy(name)?),
            Request::Resume(name) => ControlCommand::Resume(strategy(name)?),
            Request::Close { symbol, qty } => ControlCommand::Close {
                instrument: self.instrument(symbol).ok_or_else(|| {
                    Unresolved::new(
                        "unknown_symbol",
                        format!("no instrument `{symbol}` in this engine's table"),
                    )
                })?,
                qty: Qty::new(qty.unwrap_or(0)),
            },
            Request::News {
                symbol,
                sentiment_milli,
            } => ControlCommand::News {
                instrument: self.instrument(symbol).ok_or_else(|| {
                    Unresolved::new(
                        "unknown_symbol",
                        format!("no instrument `{symbol}` in this engine's table"),
                    )
                })?,
                sentiment_milli: *sentiment_milli,
            },
            Request::Flatten => ControlCommand::Flatten,
            Request::Halt => ControlCommand::SetState(TradingState::Halted),
            Request::Reduce => ControlCommand::SetState(TradingState::Reducing),
            Request::Activate => ControlCommand::SetState(TradingState::Active),
            Request::Set { name, value } => {
                let key = LimitKey::from_name(name).ok_or_else(|| {
                    let names: Vec<&str> = LimitKey::ALL.iter().map(|k| k.as_str()).collect();
                    Unresolved::new(
                        "bad_value",
                        format!("no limit `{name}`; limits: {}", names.join(", ")),
                    )
                })?;
                let value = RiskConfig::parse_limit(key, value)
                    .map_err(|e| Unresolved::new("bad_value", format!("{name}: {e}")))?;
                let mut issues = Vec::new();
                limits.with_limit(key, value).validate("risk", &mut issues);
                if !issues.is_empty() {
                    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
                    return Err(Unresolved::new("bad_value", text.join("; ")));
                }
                ControlCommand::SetLimit { key, value }
            }
            other => {
                return Err(Unresolved::new(
                    "usage",
                    format!("`{}` does not change trading state", other.word()),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        control::parse,
        model::{Instrument, SectorId},
    };

    fn catalog() -> Catalog {
        let mut table = InstrumentTable::new();
        table
            .push(Instrument::nse_equity("SBIN", SectorId(0)))
            .unwrap();
        Catalog::new(&table, &["sma_cross"])
    }

    #[test]
    fn names_resolve_and_unknown_ones_say_so() {
        let c = catalog();
        let limits = RiskConfig::default();
        let resolve = |line: &str| c.resolve(&parse(line).unwrap(), &limits);
        assert_eq!(
            resolve("close sbin").unwrap(),
            ControlCommand::Close {
                instrument: InstrumentId(0),
                qty: Qty::ZERO
            }
        );
        assert_eq!(
            resolve("pause sma_cross").unwrap(),
            ControlCommand::Pause(StrategyId(0))
        );
        assert_eq!(resolve("close INFY").unwrap_err().code, "unknown_symbol");
        let e = resolve("pause momentum").unwrap_err();
        assert!(e.message.contains("sma_cross"), "{}", e.message);
        assert_eq!(resolve("status").unwrap_err().code, "usage");
    }

    #[test]
    fn set_is_validated_like_the_configuration() {
        let c = catalog();
        let limits = RiskConfig::default();
        let resolve = |line: &str| c.resolve(&parse(line).unwrap(), &limits);
        assert!(matches!(
            resolve("set max_exposure_pct 50").unwrap(),
            ControlCommand::SetLimit {
                key: LimitKey::MaxExposurePct,
                ..
            }
        ));
        let e = resolve("set max_exposure_pct 900").unwrap_err();
        assert!(e.message.contains("risk.max_exposure_pct"), "{}", e.message);
        let e = resolve("set last_entry 15:20").unwrap_err();
        assert!(e.message.contains("square_off"), "{}", e.message);
        assert_eq!(
            resolve("set stale_quote_secs 30").unwrap(),
            ControlCommand::SetLimit {
                key: LimitKey::StaleQuoteSecs,
                value: crate::model::LimitValue(30),
            }
        );
        let e = resolve("set stale_quote_secs 86401").unwrap_err();
        assert!(e.message.contains("risk.stale_quote_secs"), "{}", e.message);
        assert!(e.message.contains("a day"), "{}", e.message);
        let e = resolve("set stale_quote_secs 1.5").unwrap_err();
        assert!(e.message.contains("whole number"), "{}", e.message);
        assert_eq!(resolve("set leverage 5").unwrap_err().code, "bad_value");
        assert_eq!(resolve("set capital lots").unwrap_err().code, "bad_value");
    }
}
