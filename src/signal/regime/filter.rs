//! The scaled forward filter: p(z_t | x_0..x_t), one update per bar.

use std::fmt;

use super::{emission::log_emission_into, GaussianHmm};

/// An observation the forward recursion cannot take; the filter is left as it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterError {
    /// The return is NaN or infinite (a bad tick or a division by a zero price upstream);
    /// drop it or fix the source.
    NonFinite(f64),
    /// The return has probability zero under every state the model can reach now (say,
    /// a state made unreachable by a zero in `transmat`, and a return hundreds of σ from
    /// every other state's mean). The model does not describe the data; refit it.
    Impossible(f64),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::NonFinite(x) => write!(f, "return {x} is not a finite number"),
            FilterError::Impossible(x) => write!(
                f,
                "return {x} has zero probability under every reachable state of the model"
            ),
        }
    }
}

impl std::error::Error for FilterError {}

/// One step of the scaled forward recursion, shared by [`RegimeFilter`] and the batch
/// pass in [`Posteriors`](super::Posteriors) so the two agree to the bit.
///
/// ```text
/// a_0[k] = π[k]·b_0[k]           a_t[j] = (Σ_i α̂_{t−1}[i]·A[i][j])·b_t[j]
/// c_t = Σ_k a_t[k]                α̂_t = a_t·(1/c_t)                log c_t is returned
/// ```
///
/// NB: b_t is used shifted, `b'_t[k] = exp(log b_t[k] − m_t)` with `m_t = max_k log b_t[k]`,
/// and `c'_t = c_t·e^{−m_t}`. Both α̂_t and `b'_t/c'_t = b_t/c_t` (all the backward pass
/// and ξ need) are unchanged in exact arithmetic, and `log c_t = m_t + log c'_t`. hmmlearn
/// uses `exp(log b)` directly, which underflows to 0 for a return ~38σ from every mean
/// (it then raises "forward pass failed with underflow"); the shift only changes rounding,
/// and keeps a crash day from stopping the filter. `b'_t` and `1/c'_t` are written to
/// `scaled_b` and returned for the backward pass. As in hmmlearn, α̂ is multiplied by the
/// reciprocal of the sum and the sums run over `i` in index order.
#[inline]
pub(super) fn forward_step(
    model: &GaussianHmm,
    prev: Option<&[f64]>,
    log_b: &[f64],
    scaled_b: &mut [f64],
    alpha: &mut [f64],
) -> Result<Step, ()> {
    let k = model.n_states();
    debug_assert!(log_b.len() == k && scaled_b.len() == k && alpha.len() == k);
    let shift = log_b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if shift == f64::NEG_INFINITY {
        return Err(());
    }
    for (b, &lb) in scaled_b.iter_mut().zip(log_b) {
        *b = (lb - shift).exp();
    }
    match prev {
        None => {
            for ((a, &p), &b) in alpha.iter_mut().zip(model.startprob()).zip(&*scaled_b) {
                *a = p * b;
            }
        }
        Some(prev) => {
            let transmat = model.transmat_flat();
            for (j, (a, &b)) in alpha.iter_mut().zip(&*scaled_b).enumerate() {
                let mut predicted = 0.0;
                for (i, &p) in prev.iter().enumerate() {
                    predicted += p * transmat[i * k + j];
                }
                *a = predicted * b;
            }
        }
    }
    let sum: f64 = alpha.iter().sum();
    // Below MIN_POSITIVE the reciprocal would overflow; 0 or NaN means no reachable state
    // explains the return.
    if sum.is_nan() || sum < f64::MIN_POSITIVE {
        return Err(());
    }
    let inv_scale = 1.0 / sum;
    for a in alpha.iter_mut() {
        *a *= inv_scale;
    }
    Ok(Step {
        inv_scale,
        log_scale: shift - inv_scale.ln(),
    })
}

/// What one forward step produced besides α̂_t.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    /// 1/c'_t, the reciprocal of the shifted sum.
    pub inv_scale: f64,
    /// log c_t = log p(x_t | x_0..x_{t−1}).
    pub log_scale: f64,
}

/// The online regime filter: after each bar's return, the probability of each regime
/// given every return so far, p(z_t | x_0..x_t), and the running log-likelihood
/// log p(x_0..x_t).
///
/// This is the scaled forward pass run one bar at a time, so a strategy can read the
/// current regime on the hot path: an update costs O(K²) flops and allocates nothing;
/// every buffer is made in [`new`](Self::new). With `b_t[k] = N(x_t; μ_k, σ²_k)`:
///
/// ```text
/// a_0 = π ⊙ b_0,   a_t = (α̂_{t−1} A) ⊙ b_t,   c_t = Σ_k a_t[k],   α̂_t = a_t / c_t
/// ```
///
/// α̂_t is the filtered posterior and `Σ_t log c_t` the log-likelihood. The densities
/// are scaled by their per-bar maximum first, which changes only rounding and keeps a
/// return far out in every state's tail from underflowing (hmmlearn raises there). The
/// output equals the batch pass's ([`Posteriors::filtered`](super::Posteriors::filtered))
/// bit for bit.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{GaussianHmm, HmmParams, RegimeFilter};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.95, 0.05], vec![0.1, 0.9]],
///     means: vec![0.001, -0.002],
///     variances: vec![0.007f64.powi(2), 0.022f64.powi(2)],
/// })
/// .unwrap();
/// let mut filter = RegimeFilter::new(&model);
/// for r in [0.002, -0.001, 0.003] {
///     filter.update(r).unwrap();
/// }
/// let calm = filter.update(0.001).unwrap()[0];
/// assert!(calm > 0.9);
/// // A -6% day: the volatile regime takes over.
/// assert!(filter.update(-0.06).unwrap()[1] > 0.9);
/// assert_eq!(filter.bars(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct RegimeFilter {
    model: GaussianHmm,
    /// α̂_{t}, valid once `bars > 0`.
    posterior: Vec<f64>,
    /// α̂_{t+1} under construction; swapped in on success.
    next: Vec<f64>,
    log_b: Vec<f64>,
    scaled_b: Vec<f64>,
    loglik: f64,
    bars: u64,
}

impl RegimeFilter {
    /// A filter that has seen no bar yet, with its own copy of `model`.
    pub fn new(model: &GaussianHmm) -> RegimeFilter {
        let k = model.n_states();
        RegimeFilter {
            model: model.clone(),
            posterior: vec![0.0; k],
            next: vec![0.0; k],
            log_b: vec![0.0; k],
            scaled_b: vec![0.0; k],
            loglik: 0.0,
            bars: 0,
        }
    }

    /// Takes the next bar's return x_t; returns the filtered posterior p(z_t | x_0..x_t).
    ///
    /// # Errors
    /// [`FilterError`] if `x` is not finite or has zero probability under the model; the
    /// filter is then unchanged, as if the bar had not been seen.
    #[inline]
    pub fn update(&mut self, x: f64) -> Result<&[f64], FilterError> {
        if !x.is_finite() {
            return Err(FilterError::NonFinite(x));
        }
        log_emission_into(&self.model, x, &mut self.log_b);
        let prev = (self.bars > 0).then_some(&self.posterior[..]);
        let step = forward_step(
            &self.model,
            prev,
            &self.log_b,
            &mut self.scaled_b,
            &mut self.next,
        )
        .map_err(|()| FilterError::Impossible(x))?;
        std::mem::swap(&mut self.posterior, &mut self.next);
        self.loglik += step.log_scale;
        self.bars += 1;
        Ok(&self.posterior)
    }

    /// The latest filtered posterior, or `None` before the first bar.
    #[inline]
    pub fn posterior(&self) -> Option<&[f64]> {
        (self.bars > 0).then_some(&self.posterior[..])
    }

    /// log p(x_0..x_t), the log-likelihood of every return seen (0 before the first).
    #[inline]
    pub fn loglik(&self) -> f64 {
        self.loglik
    }

    /// How many returns the filter has taken.
    #[inline]
    pub fn bars(&self) -> u64 {
        self.bars
    }

    /// The model the filter runs.
    pub fn model(&self) -> &GaussianHmm {
        &self.model
    }

    /// Forgets every bar (a new series), keeping the buffers.
    pub fn reset(&mut self) {
        self.loglik = 0.0;
        self.bars = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::regime::{test_support::two_state, Posteriors};

    #[test]
    fn each_update_equals_the_batch_forward_pass() {
        let model = two_state();
        let xs = [0.004, -0.03, 0.001, 0.02, -0.002, 0.0005, -0.045, 0.01];
        let batch = Posteriors::compute(&model, &xs).unwrap();
        let mut filter = RegimeFilter::new(&model);
        for (t, &x) in xs.iter().enumerate() {
            let online = filter.update(x).unwrap().to_vec();
            assert_eq!(online, batch.filtered().row(t), "bar {t}");
            assert_eq!(filter.loglik(), batch.prefix_loglik()[t], "bar {t}");
        }
        assert_eq!(filter.loglik(), batch.loglik());
    }

    #[test]
    fn a_hand_checked_first_step() {
        // One bar: α̂_0 ∝ π ⊙ b_0, and log c_0 = log Σ_k π_k b_0[k].
        let model = two_state();
        let x = 0.01;
        let b: Vec<f64> = (0..2)
            .map(|k| super::super::log_density(x, model.means()[k], model.variances()[k]).exp())
            .collect();
        let c = 0.5 * b[0] + 0.5 * b[1];
        let mut filter = RegimeFilter::new(&model);
        let p = filter.update(x).unwrap().to_vec();
        assert!((p[0] - 0.5 * b[0] / c).abs() < 1e-15);
        assert!((p[1] - 0.5 * b[1] / c).abs() < 1e-15);
        assert!((filter.loglik() - c.ln()).abs() < 1e-12);
    }

    #[test]
    fn a_bad_return_leaves_the_filter_unchanged() {
        let model = two_state();
        let mut filter = RegimeFilter::new(&model);
        assert_eq!(filter.posterior(), None);
        let before = filter.update(0.001).unwrap().to_vec();
        let loglik = filter.loglik();
        assert!(matches!(
            filter.update(f64::NAN),
            Err(FilterError::NonFinite(x)) if x.is_nan()
        ));
        assert_eq!(filter.posterior(), Some(&before[..]));
        assert_eq!(filter.loglik(), loglik);
        assert_eq!(filter.bars(), 1);
    }

    #[test]
    fn a_far_outlier_does_not_underflow() {
        // 1.0 is ~45σ from the volatile state's mean: exp(log b) underflows to 0 for
        // both states, the shifted form does not.
        let model = two_state();
        let mut filter = RegimeFilter::new(&model);
        let p = filter.update(1.0).unwrap();
        assert!(p[1] > 0.999_999, "{p:?}");
        assert!(filter.loglik().is_finite());
    }

    #[test]
    fn an_unreachable_state_makes_a_return_impossible() {
        use crate::signal::regime::HmmParams;
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![1.0, 0.0],
            transmat: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            means: vec![0.0, 5.0],
            variances: vec![1e-6, 1.0],
        })
        .unwrap();
        let mut filter = RegimeFilter::new(&model);
        assert_eq!(filter.update(5.0), Err(FilterError::Impossible(5.0)));
        assert_eq!(filter.bars(), 0);
    }
}
