//! Shared indicator state: one instance per (instrument, bar length, parameters), updated
//! once per closed bar whatever the number of strategies reading it.

use super::{
    Adx, Atr, Bands, BollingerBands, Ema, Macd, MacdValue, Obv, ReturnVolatility, Rsi, TalibSma,
    Vwap, ZScore,
};
use crate::{
    model::{Date, InstrumentId},
    signal::Bar,
};

/// What to compute, on which bars. Two strategies asking for the same spec share one
/// instance per instrument.
///
/// Periods count bars of `secs` seconds. Prices enter as rupees (`f64`), volumes as
/// units; every indicator follows TA-Lib's conventions (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndicatorSpec {
    /// Length of the bars it is computed on, in seconds.
    pub secs: u32,
    /// Which indicator, with its parameters.
    pub kind: IndicatorKind,
}

/// The indicators the bank can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorKind {
    /// TA-Lib `SMA` of closes.
    Sma(u16),
    /// TA-Lib `EMA` of closes.
    Ema(u16),
    /// Wilder's `RSI` of closes.
    Rsi(u16),
    /// Wilder's `ATR`.
    Atr(u16),
    /// Wilder's `ADX`.
    Adx(u16),
    /// `MACD(fast, slow, signal)` of closes.
    Macd(u16, u16, u16),
    /// Bollinger bands of closes: period and width in tenths of a deviation (20 = 2.0σ).
    Bollinger(u16, u16),
    /// On-balance volume.
    Obv,
    /// The session VWAP from the bars' own VWAP and volume, reset at each new IST day.
    SessionVwap,
    /// z-score of a bar's volume against the `n` bars before it.
    VolumeZ(u16),
    /// Sample deviation of the last `n` log returns of closes.
    ReturnVolatility(u16),
}

/// A request's ticket: which spec to read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndicatorHandle(u16);

/// The latest output of an indicator on one instrument.
///
/// `value` is the indicator's main line (the MACD line, the middle band); `aux` holds the
/// others (MACD: signal and histogram; Bollinger: upper and lower). `None` during warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reading {
    /// The main line.
    pub value: f64,
    /// Secondary lines, where the indicator has them (zero otherwise).
    pub aux: [f64; 2],
}

impl From<MacdValue> for Reading {
    fn from(m: MacdValue) -> Reading {
        Reading {
            value: m.macd,
            aux: [m.signal, m.hist],
        }
    }
}

impl From<Bands> for Reading {
    fn from(b: Bands) -> Reading {
        Reading {
            value: b.middle,
            aux: [b.upper, b.lower],
        }
    }
}

impl From<f64> for Reading {
    fn from(value: f64) -> Reading {
        Reading {
            value,
            aux: [0.0; 2],
        }
    }
}

/// One live indicator.
#[derive(Debug, Clone)]
enum Live {
    Sma(TalibSma),
    Ema(Ema),
    Rsi(Rsi),
    Atr(Atr),
    Adx(Adx),
    Macd(Macd),
    Bollinger(BollingerBands),
    Obv(Obv),
    SessionVwap(Vwap, Option<Date>),
    VolumeZ(ZScore),
    ReturnVolatility(ReturnVolatility),
}

impl Live {
    fn new(kind: IndicatorKind) -> Live {
        let n = |p: u16| usize::from(p.max(1));
        match kind {
            IndicatorKind::Sma(p) => Live::Sma(TalibSma::new(n(p))),
            IndicatorKind::Ema(p) => Live::Ema(Ema::new(n(p))),
            IndicatorKind::Rsi(p) => Live::Rsi(Rsi::new(n(p))),
            IndicatorKind::Atr(p) => Live::Atr(Atr::new(n(p))),
            IndicatorKind::Adx(p) => Live::Adx(Adx::new(n(p))),
            IndicatorKind::Macd(f, s, g) => Live::Macd(Macd::new(n(f), n(s), n(g))),
            IndicatorKind::Bollinger(p, k) => {
                Live::Bollinger(BollingerBands::new(n(p), f64::from(k) / 10.0))
            }
            IndicatorKind::Obv => Live::Obv(Obv::new()),
            IndicatorKind::SessionVwap => Live::SessionVwap(Vwap::new(), None),
            IndicatorKind::VolumeZ(p) => Live::VolumeZ(ZScore::new(n(p))),
            IndicatorKind::ReturnVolatility(p) => {
                Live::ReturnVolatility(ReturnVolatility::new(n(p)))
            }
        }
    }

    fn update(&mut self, bar: &Bar) -> Option<Reading> {
        let (high, low, close) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
        let volume = bar.volume as f64;
        match self {
            Live::Sma(i) => i.update(close).map(Reading::from),
            Live::Ema(i) => i.update(close).map(Reading::from),
            Live::Rsi(i) => i.update(close).map(Reading::from),
            Live::Atr(i) => i.update(high, low, close).map(Reading::from),
            Live::Adx(i) => i.update(high, low, close).map(Reading::from),
            Live::Macd(i) => i.update(close).map(Reading::from),
            Live::Bollinger(i) => i.update(close).map(Reading::from),
            Live::Obv(i) => Some(Reading::from(i.update(close, volume))),
            Live::SessionVwap(i, day) => {
                let today = bar.start.ist_date();
                if day.replace(today) != Some(today) {
                    i.reset();
                }
                i.update(bar.vwap(), volume).map(Reading::from)
            }
            Live::VolumeZ(i) => i.update(volume).map(Reading::from),
            Live::ReturnVolatility(i) => i.update(close).map(Reading::from),
        }
    }
}

/// One requested spec: its live instances by instrument index (`None` where no strategy
/// asked for that instrument) and their latest readings.
#[derive(Debug, Clone)]
struct Series {
    spec: IndicatorSpec,
    live: Vec<Option<Live>>,
    latest: Vec<Option<Reading>>,
}

/// Every indicator the strategies asked for, fed by the signal stage on each closed bar.
///
/// Strategies [`request`](IndicatorBank::request) what they need while they are built;
/// the stage then calls [`IndicatorBank::on_bar`] once per closed bar before any
/// strategy sees it, and strategies read the values back through
/// [`StrategyContext::indicators`](crate::signal::StrategyContext::indicators). A spec
/// asked for twice, by one strategy or two, is computed once.
///
/// All instances exist after the last request, so `on_bar` never allocates: its cost is
/// one update per requested spec of that bar length and instrument.
#[derive(Debug, Clone, Default)]
pub struct IndicatorBank {
    instruments: usize,
    series: Vec<Series>,
}

impl IndicatorBank {
    /// A bank with no requests; nothing to update, every read `None`.
    pub const EMPTY: IndicatorBank = IndicatorBank {
        instruments: 0,
        series: Vec::new(),
    };

    /// An empty bank for instruments `0..instruments`.
    pub fn new(instruments: usize) -> IndicatorBank {
        IndicatorBank {
            instruments,
            series: Vec::new(),
        }
    }

    /// Asks for `spec` on `instrument`; returns the handle that reads it back (the same
    /// handle for the same spec, whoever asks).
    ///
    /// # Panics
    /// If `instrument` is outside the bank's table.
    pub fn request(&mut self, spec: IndicatorSpec, instrument: InstrumentId) -> IndicatorHandle {
        assert!(
            instrument.index() < self.instruments,
            "instrument {instrument} is outside the bank's {} instruments",
            self.instruments
        );
        let at = match self.series.iter().position(|s| s.spec == spec) {
            Some(at) => at,
            None => {
                self.series.push(Series {
                    spec,
                    live: vec![None; self.instruments],
                    latest: vec![None; self.instruments],
                });
                self.series.len() - 1
            }
        };
        let live = &mut self.series[at].live[instrument.index()];
        if live.is_none() {
            *live = Some(Live::new(spec.kind));
        }
        IndicatorHandle(u16::try_from(at).expect("fewer than 65536 indicator specs"))
    }

    /// Distinct specs requested (each counted once, whatever the number of askers).
    pub fn specs(&self) -> usize {
        self.series.len()
    }

    /// Live instances over all specs and instruments: the work per round of bars.
    pub fn instances(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.live.iter().flatten().count())
            .sum()
    }

    /// The bar lengths some request computes on, ascending, without repeats.
    pub fn bar_lengths(&self) -> Vec<u32> {
        let mut secs: Vec<u32> = self.series.iter().map(|s| s.spec.secs).collect();
        secs.sort_unstable();
        secs.dedup();
        secs
    }

    /// Folds a closed bar into every requested indicator of its length and instrument.
    #[inline]
    pub fn on_bar(&mut self, bar: &Bar) {
        let i = bar.instrument.index();
        for series in &mut self.series {
            if series.spec.secs != bar.secs {
                continue;
            }
            if let Some(Some(live)) = series.live.get_mut(i) {
                series.latest[i] = live.update(bar);
            }
        }
    }

    /// The latest reading of `handle` on `instrument`; `None` during warm-up or when
    /// nobody requested it for that instrument.
    #[inline]
    pub fn reading(&self, handle: IndicatorHandle, instrument: InstrumentId) -> Option<Reading> {
        *self
            .series
            .get(usize::from(handle.0))?
            .latest
            .get(instrument.index())?
    }

    /// The main line of `handle` on `instrument` ([`Reading::value`]).
    #[inline]
    pub fn value(&self, handle: IndicatorHandle, instrument: InstrumentId) -> Option<f64> {
        self.reading(handle, instrument).map(|r| r.value)
    }
}

#[cfg(test)]
// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::{
        model::{Price, UnixNanos},
        signal::test_support::{MIN, OPEN},
    };

    fn bar(instrument: u32, minute: u64, close: i64, volume: u64) -> Bar {
        let p = Price::from_paise(close);
        Bar {
            instrument: InstrumentId(instrument),
            start: UnixNanos(OPEN + minute * MIN),
            secs: 60,
            open: p,
            high: p,
            low: p,
            close: p,
            volume,
            trades: 1,
            turnover: p.to_f64() * volume as f64,
        }
    }

    fn ema(n: u16) -> IndicatorSpec {
        IndicatorSpec {
            secs: 60,
            kind: IndicatorKind::Ema(n),
        }
    }

    #[test]
    fn the_same_spec_is_one_series_whoever_asks() {
        let mut bank = IndicatorBank::new(3);
        let a = bank.request(ema(3), InstrumentId(0));
        let b = bank.request(ema(3), InstrumentId(0));
        let c = bank.request(ema(3), InstrumentId(2));
        let d = bank.request(ema(4), InstrumentId(0));
        assert_eq!((a, a), (b, c));
        assert_ne!(a, d);
        assert_eq!(bank.specs(), 2);
        assert_eq!(bank.instances(), 3);
    }

    #[test]
    fn readings_match_a_private_instance_and_skip_unrequested_instruments() {
        let mut bank = IndicatorBank::new(2);
        let h = bank.request(ema(3), InstrumentId(0));
        let mut own = Ema::new(3);
        for (m, close) in [100_00, 101_00, 103_00, 102_00].into_iter().enumerate() {
            bank.on_bar(&bar(0, m as u64, close, 10));
            bank.on_bar(&bar(1, m as u64, close, 10));
            let expected = own.update(Price::from_paise(close).to_f64());
            assert_eq!(bank.value(h, InstrumentId(0)), expected);
            assert_eq!(bank.value(h, InstrumentId(1)), None);
        }
    }

    #[test]
    fn bars_of_other_lengths_are_ignored() {
        let mut bank = IndicatorBank::new(1);
        let h = bank.request(
            IndicatorSpec {
                secs: 300,
                kind: IndicatorKind::Obv,
            },
            InstrumentId(0),
        );
        bank.on_bar(&bar(0, 0, 100_00, 10));
        assert_eq!(bank.value(h, InstrumentId(0)), None);
        assert_eq!(bank.bar_lengths(), [300]);
    }

    #[test]
    fn the_session_vwap_restarts_each_day() {
        let mut bank = IndicatorBank::new(1);
        let spec = IndicatorSpec {
            secs: 60,
            kind: IndicatorKind::SessionVwap,
        };
        let h = bank.request(spec, InstrumentId(0));
        bank.on_bar(&bar(0, 0, 100_00, 10));
        bank.on_bar(&bar(0, 1, 103_00, 20));
        assert_eq!(bank.value(h, InstrumentId(0)), Some(102.0));
        bank.on_bar(&bar(0, 24 * 60, 90_00, 5)); // the next day
        assert_eq!(bank.value(h, InstrumentId(0)), Some(90.0));
    }

    #[test]
    fn macd_and_bands_keep_their_secondary_lines() {
        let mut bank = IndicatorBank::new(1);
        let spec = IndicatorSpec {
            secs: 60,
            kind: IndicatorKind::Bollinger(3, 20),
        };
        let h = bank.request(spec, InstrumentId(0));
        for (m, c) in [100_00, 102_00, 104_00].into_iter().enumerate() {
            bank.on_bar(&bar(0, m as u64, c, 1));
        }
        let r = bank.reading(h, InstrumentId(0)).unwrap();
        assert!((r.value - 102.0).abs() < 1e-9);
        assert!(r.aux[0] > r.value && r.aux[1] < r.value);
    }
}
