//! The market regime now: the hidden Markov model's filter run over the index's bars.

use crate::{
    model::{Date, InstrumentId, Price},
    signal::{
        regime::{FilterError, GaussianHmm, RegimeFilter},
        Bar,
    },
};

/// The regime the market is in, as the signal stage sees it: a [`RegimeFilter`] fed
/// the log return of every closed index bar of one length.
///
/// The stage owns one tracker, folds each closed bar into it before any strategy sees
/// the bar, and lends it to every strategy ([`StrategyContext::regime`]) and to the
/// regime gate, so all of them read the same state at the same point of the stream.
///
/// A bar's return is `ln(close / previous close)`; the first bar of each IST day is
/// measured from its own open, so an overnight gap (in a replay spanning days) is not
/// read as one enormous bar. After each return it keeps the filtered posterior
/// p(regime | returns so far), the most likely regime and that regime's probability.
/// A return the model cannot take (see [`FilterError`]) is skipped and counted, and
/// the regime stays what it was.
///
/// Every state has a label (`trend_up`, `range`, …) from the configuration, so
/// strategies and the gate name regimes rather than state numbers, which depend on how
/// the model was fitted. Nothing in [`RegimeTracker::on_bar`] allocates: the filter's
/// buffers are made in [`RegimeTracker::new`].
///
/// [`StrategyContext::regime`]: crate::signal::StrategyContext::regime
///
/// # Examples
/// ```
/// use tickpipe::{model::InstrumentId, signal::{market_regime::RegimeTracker, regime::*}};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.95, 0.05], vec![0.05, 0.95]],
///     means: vec![0.0, 0.0],
///     variances: vec![1e-8, 1e-6],
/// })
/// .unwrap();
/// let labels = vec!["calm".to_owned(), "stormy".to_owned()];
/// let mut tracker = RegimeTracker::new(&model, labels, InstrumentId(0), 60);
/// assert_eq!(tracker.label_now(), None);
/// for r in [0.002, -0.003, 0.0025] {
///     tracker.observe(r).unwrap();
/// }
/// assert_eq!(tracker.label_now(), Some("stormy"));
/// assert!(tracker.probability() > 0.99);
/// ```
#[derive(Debug, Clone)]
pub struct RegimeTracker {
    filter: RegimeFilter,
    labels: Vec<String>,
    index: InstrumentId,
    bar_secs: u32,
    /// Close of the last index bar taken, and its IST date.
    previous: Option<(Price, Date)>,
    /// The most likely state after the last return, once there is one.
    state: Option<usize>,
    probability: f64,
    switches: u64,
    skipped: u64,
    /// Returns after which each state was the most likely.
    bars_as_likeliest: Vec<u64>,
}

impl RegimeTracker {
    /// A tracker running `model` over the bars of `index` that last `bar_secs`, naming
    /// state `k` `labels[k]`.
    ///
    /// # Panics
    /// If `labels` does not hold one label per state of `model` (configuration
    /// validation rules it out).
    pub fn new(
        model: &GaussianHmm,
        labels: Vec<String>,
        index: InstrumentId,
        bar_secs: u32,
    ) -> RegimeTracker {
        assert_eq!(
            labels.len(),
            model.n_states(),
            "one label per state of the model"
        );
        RegimeTracker {
            filter: RegimeFilter::new(model),
            labels,
            index,
            bar_secs,
            previous: None,
            state: None,
            probability: 0.0,
            switches: 0,
            skipped: 0,
            bars_as_likeliest: vec![0; model.n_states()],
        }
    }

    /// Folds a closed bar in: a bar of the index of the tracker's length moves the
    /// filter on by its return (true); any other bar is ignored (false).
    #[inline]
    pub fn on_bar(&mut self, bar: &Bar) -> bool {
        if bar.instrument != self.index || bar.secs != self.bar_secs {
            return false;
        }
        let day = bar.start.ist_date();
        let base = match self.previous {
            Some((close, previous_day)) if previous_day == day => close,
            _ => bar.open,
        };
        self.previous = Some((bar.close, day));
        if !(base.is_positive() && bar.close.is_positive()) {
            self.skipped += 1;
            return true;
        }
        let log_return = (bar.close.to_f64() / base.to_f64()).ln();
        if self.observe(log_return).is_err() {
            self.skipped += 1;
        }
        true
    }

    /// Moves the filter on by one bar's log return and updates the most likely regime.
    ///
    /// # Errors
    /// The [`FilterError`] of a return the model cannot take; the tracker is unchanged.
    pub fn observe(&mut self, log_return: f64) -> Result<(), FilterError> {
        let posterior = self.filter.update(log_return)?;
        // The first state wins a tie, as an argmax over a slice in index order.
        let (state, probability) =
            posterior
                .iter()
                .copied()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (k, p)| {
                    if p > best.1 {
                        (k, p)
                    } else {
                        best
                    }
                });
        if self.state.is_some_and(|s| s != state) {
            self.switches += 1;
        }
        self.state = Some(state);
        self.probability = probability;
        self.bars_as_likeliest[state] += 1;
        Ok(())
    }

    /// The most likely regime after the last bar, or `None` before the first.
    #[inline]
    pub fn state(&self) -> Option<usize> {
        self.state
    }

    /// The filtered probability of [`RegimeTracker::state`] (0 before the first bar).
    #[inline]
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// p(regime k | every return so far) for each state, or `None` before the first bar.
    #[inline]
    pub fn posterior(&self) -> Option<&[f64]> {
        self.filter.posterior()
    }

    /// The label of the most likely regime, or `None` before the first bar.
    pub fn label_now(&self) -> Option<&str> {
        self.state.map(|s| self.labels[s].as_str())
    }

    /// The label of state `k`.
    ///
    /// # Panics
    /// If `k` is not below [`RegimeTracker::n_states`].
    pub fn label(&self, k: usize) -> &str {
        &self.labels[k]
    }

    /// Every state's label, by state.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The state labelled `label`, if any (off the hot path: a linear search).
    pub fn state_of(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// The number of regimes the model has.
    pub fn n_states(&self) -> usize {
        self.labels.len()
    }

    /// Returns taken so far.
    #[inline]
    pub fn bars(&self) -> u64 {
        self.filter.bars()
    }

    /// How many returns left state `k` the most likely, by state.
    pub fn bars_as_likeliest(&self) -> &[u64] {
        &self.bars_as_likeliest
    }

    /// Times the most likely regime changed.
    pub fn switches(&self) -> u64 {
        self.switches
    }

    /// Index bars whose return the model could not take (non-finite, or impossible
    /// under every state), and so were skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The index whose bars drive it.
    pub fn index(&self) -> InstrumentId {
        self.index
    }

    /// The length of those bars, in seconds.
    pub fn bar_secs(&self) -> u32 {
        self.bar_secs
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::{
        model::UnixNanos,
        signal::{
            regime::HmmParams,
            test_support::{MIN, OPEN},
        },
    };

    /// Calm and drifting up (σ 0.03%), or stressed (σ 0.25%).
    fn model() -> GaussianHmm {
        GaussianHmm::new(HmmParams {
            startprob: vec![0.5, 0.5],
            transmat: vec![vec![0.98, 0.02], vec![0.04, 0.96]],
            means: vec![0.0002, -0.0003],
            variances: vec![0.0003f64.powi(2), 0.0025f64.powi(2)],
        })
        .unwrap()
    }

    fn tracker() -> RegimeTracker {
        let labels = vec!["calm".into(), "stress".into()];
        RegimeTracker::new(&model(), labels, InstrumentId(2), 60)
    }

    fn bar(instrument: u32, minute: u64, secs: u32, open: f64, close: f64) -> Bar {
        let p = |x: f64| Price::from_raw((x * 1e8).round() as i64);
        Bar {
            instrument: InstrumentId(instrument),
            start: UnixNanos(OPEN + minute * MIN),
            secs,
            open: p(open),
            high: p(open.max(close)),
            low: p(open.min(close)),
            close: p(close),
            volume: 0,
            trades: 1,
            turnover: 0.0,
        }
    }

    #[test]
    fn recovers_two_very_different_regimes_from_drawn_returns() {
        // 300 calm bars, 150 stressed, 300 calm: the tracker names the regime of
        // nearly every bar once a few bars of each have been seen.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let calm = Normal::new(0.0002, 0.0003).unwrap();
        let stress = Normal::new(-0.0003, 0.0025).unwrap();
        let truth: Vec<usize> = [(0, 300), (1, 150), (0, 300)]
            .iter()
            .flat_map(|&(k, n)| std::iter::repeat_n(k, n))
            .collect();
        let mut t = tracker();
        let (mut right, mut settled) = (0, 0);
        let mut since_switch = 0;
        for (i, &k) in truth.iter().enumerate() {
            let r = if k == 0 { calm } else { stress }.sample(&mut rng);
            t.observe(r).unwrap();
            since_switch = if i > 0 && truth[i - 1] != k {
                0
            } else {
                since_switch + 1
            };
            if since_switch >= 5 {
                settled += 1;
                right += usize::from(t.state() == Some(k));
            }
        }
        assert!(right * 100 >= settled * 97, "{right} of {settled} bars");
        assert_eq!(t.bars(), 750);
        assert_eq!(t.bars_as_likeliest().iter().sum::<u64>(), 750);
        let stressed = t.bars_as_likeliest()[1];
        assert!(
            (140..=170).contains(&stressed),
            "{stressed} bars read as stress"
        );
        // The two true switches, and a few flickers on stressed bars that look calm:
        // no more than the misread bars allow.
        assert!((2..=22).contains(&t.switches()), "{}", t.switches());
        assert_eq!(t.state(), Some(0));
        assert_eq!(t.label_now(), Some("calm"));
        assert!(t.probability() > 0.9);
        let posterior = t.posterior().unwrap();
        assert!((posterior.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(posterior[0], t.probability());
    }

    #[test]
    fn takes_the_index_bars_of_its_length_only_measured_close_to_close() {
        let mut t = tracker();
        assert!(
            !t.on_bar(&bar(1, 0, 60, 100.0, 101.0)),
            "another instrument"
        );
        assert!(!t.on_bar(&bar(2, 0, 300, 100.0, 101.0)), "another length");
        assert_eq!(t.bars(), 0);
        assert_eq!(t.state(), None);
        // The first bar from its open, the next from the first's close: two returns
        // of 0.02%, calm.
        assert!(t.on_bar(&bar(2, 0, 60, 24_000.0, 24_004.8)));
        assert!(t.on_bar(&bar(2, 1, 60, 24_010.0, 24_009.6)));
        let expected = {
            let mut f = RegimeFilter::new(&model());
            f.update((24_004.8f64 / 24_000.0).ln()).unwrap();
            f.update((24_009.6f64 / 24_004.8).ln()).unwrap().to_vec()
        };
        assert_eq!(t.posterior().unwrap(), &expected[..]);
        assert_eq!(t.label_now(), Some("calm"));
        // A new day starts from its own open: a 5% overnight gap is not a return.
        let next_day = Bar {
            start: UnixNanos(OPEN + 24 * 60 * MIN),
            ..bar(2, 0, 60, 25_210.0, 25_215.0)
        };
        assert!(t.on_bar(&next_day));
        assert_eq!(t.label_now(), Some("calm"));
    }

    #[test]
    fn a_return_the_model_cannot_take_is_skipped_and_counted() {
        let mut t = tracker();
        t.observe(0.0001).unwrap();
        let before = t.posterior().unwrap().to_vec();
        assert!(t.observe(f64::NAN).is_err());
        assert_eq!(t.posterior().unwrap(), &before[..]);
        assert!(t.on_bar(&bar(2, 0, 60, 0.0, 100.0)), "a zero open");
        assert_eq!((t.bars(), t.skipped()), (1, 1));
    }

    #[test]
    fn names_states_by_their_labels() {
        let t = tracker();
        assert_eq!(
            (t.label(1), t.state_of("calm"), t.state_of("x")),
            ("stress", Some(0), None)
        );
        assert_eq!(t.labels().len(), t.n_states());
        assert_eq!((t.index(), t.bar_secs()), (InstrumentId(2), 60));
    }

    #[test]
    #[should_panic(expected = "one label per state")]
    fn needs_a_label_per_state() {
        RegimeTracker::new(&model(), vec!["only".into()], InstrumentId(0), 60);
    }
}
