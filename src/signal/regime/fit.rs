//! Baum–Welch (expectation–maximisation) fitting, step for step as hmmlearn's
//! `GaussianHMM.fit` with `init_params=""`, `params="stmc"` and `tol=-inf`.

use std::fmt;

use super::{
    decode::{backward, forward, smooth},
    DecodeError, GaussianHmm, HmmParams, ModelError,
};

/// The conjugate priors of the M-step, each one scalar broadcast over the states, named
/// and defaulted as hmmlearn's `GaussianHMM` arguments except `covars`.
///
/// [`Priors::default`] is plain maximum likelihood: `covars = 0`, `covars_weight = 1`,
/// `means_weight = 0`, `startprob = transmat = 1`. hmmlearn's own default is
/// `covars_prior = 1e-2`, which adds about `0.01/Σ_t γ_t[k]` to every variance; next to
/// daily-return variances (~5e-5) that is a large bias, so we do not make it the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priors {
    /// Dirichlet concentration on π (1 = none).
    pub startprob: f64,
    /// Dirichlet concentration on each row of A (1 = none).
    pub transmat: f64,
    /// Prior mean of each μ_k.
    pub means: f64,
    /// Weight of the prior mean, in pseudo-observations (0 = none).
    pub means_weight: f64,
    /// Added to each variance's numerator (`covars_prior`).
    pub covars: f64,
    /// Pseudo-observations behind the variance prior; `max(w − 1, 0)` joins the
    /// denominator (`covars_weight`, 1 = none).
    pub covars_weight: f64,
}

impl Default for Priors {
    fn default() -> Priors {
        Priors {
            startprob: 1.0,
            transmat: 1.0,
            means: 0.0,
            means_weight: 0.0,
            covars: 0.0,
            covars_weight: 1.0,
        }
    }
}

/// A fitted model and the log-likelihood along the way.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The parameters after the last M-step.
    pub model: GaussianHmm,
    /// `loglik_history[n]` = log p(x) under the parameters *before* M-step n+1, so
    /// `loglik_history[0]` is the starting model's. The fitted model's own log-likelihood
    /// is not in it (compute [`Posteriors`](super::Posteriors) under [`Fit::model`]).
    pub loglik_history: Vec<f64>,
}

/// Why fitting stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum FitError {
    /// The E-step could not run over the data (no data, a non-finite value, a zero
    /// probability) at `iteration` (0-based).
    Decode {
        /// Which E-step.
        iteration: usize,
        /// Why.
        cause: DecodeError,
    },
    /// M-step `iteration` (0-based) produced parameters that are not a model: typically
    /// a state that no observation supports (γ sums to 0, so its mean is 0/0), or a
    /// variance of 0 from a state holding one repeated value. Fewer states, other
    /// starting parameters or a `covars` prior fix it.
    Degenerate {
        /// Which M-step.
        iteration: usize,
        /// What is wrong with the parameters.
        cause: ModelError,
    },
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::Decode { iteration, cause } => {
                write!(f, "Baum-Welch iteration {}: {cause}", iteration + 1)
            }
            FitError::Degenerate { iteration, cause } => write!(
                f,
                "Baum-Welch iteration {} gave a degenerate model: {cause}",
                iteration + 1
            ),
        }
    }
}

impl std::error::Error for FitError {}

/// The expected sufficient statistics of one E-step (hmmlearn's `stats`).
#[derive(Debug)]
struct Stats {
    loglik: f64,
    /// γ_0.
    start: Vec<f64>,
    /// Σ_{t<T−1} ξ_t, K × K row-major.
    trans: Vec<f64>,
    /// Σ_t γ_t.
    post: Vec<f64>,
    /// Σ_t γ_t·x_t.
    obs: Vec<f64>,
    /// Σ_t γ_t·x_t².
    obs2: Vec<f64>,
}

/// Runs exactly `iterations` Baum–Welch iterations from `initial` over `xs`.
///
/// Each iteration is an E-step under the current parameters, then an M-step; there is
/// no convergence test (hmmlearn's `tol=-inf`), so the count is exact and a fit is
/// reproducible to the iteration. The E-step runs the scaled forward–backward pass and
/// gathers `start = γ_0`, `trans = Σ_{t<T−1} ξ_t`, `post = Σ_t γ_t`, `obs = Σ_t γ_t·x_t`
/// and `obs² = Σ_t γ_t·x_t²`. The M-step then sets, in this order (`p_*` are the
/// [`Priors`]):
///
/// ```text
/// π   = normalise(max(p_startprob − 1 + start, 0))     (entries 0 in the old π stay 0)
/// A_i = normalise(max(p_transmat − 1 + trans_i, 0))    (entries 0 in the old A stay 0)
/// μ   = (p_means_weight·p_means + obs) / (p_means_weight + post)
/// σ²  = (p_covars + p_means_weight·(μ − p_means)² + obs² − 2·μ·obs + μ²·post)
///       / max(max(p_covars_weight − 1, 0) + post, 1e-5)
/// ```
///
/// σ² uses the **new** μ; with no priors it is the γ-weighted variance about it.
///
/// # Errors
/// [`FitError`]: the data cannot be decoded, or an M-step gives a degenerate model.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{baum_welch, GaussianHmm, HmmParams, Posteriors, Priors};
/// let initial = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.9, 0.1], vec![0.1, 0.9]],
///     means: vec![0.0, 0.0],
///     variances: vec![1e-4, 1e-3],
/// })
/// .unwrap();
/// let xs = [0.001, -0.002, 0.0015, 0.04, -0.05, 0.03, 0.0, 0.001, -0.001];
/// let fit = baum_welch(&initial, &xs, 10, &Priors::default()).unwrap();
/// assert_eq!(fit.loglik_history.len(), 10);
/// // EM never lowers the likelihood.
/// assert!(fit.loglik_history.windows(2).all(|w| w[1] >= w[0] - 1e-9));
/// let after = Posteriors::compute(&fit.model, &xs).unwrap().loglik();
/// assert!(after >= fit.loglik_history[9]);
/// ```
pub fn baum_welch(
    initial: &GaussianHmm,
    xs: &[f64],
    iterations: usize,
    priors: &Priors,
) -> Result<Fit, FitError> {
    let mut model = initial.clone();
    let mut loglik_history = Vec::with_capacity(iterations);
    for iteration in 0..iterations {
        let stats = e_step(&model, xs).map_err(|cause| FitError::Decode { iteration, cause })?;
        loglik_history.push(stats.loglik);
        model = m_step(&model, &stats, priors)
            .map_err(|cause| FitError::Degenerate { iteration, cause })?;
    }
    Ok(Fit {
        model,
        loglik_history,
    })
}

/// The E-step: the scaled forward–backward pass under `model`, then
///
/// ```text
/// start = γ_0
/// trans = Σ_{t<T−1} ξ_t,   ξ_t[i][j] = α̂_t[i]·A[i][j]·b_{t+1}[j]·β̂_{t+1}[j] / c_{t+1}
/// post  = Σ_t γ_t,   obs = Σ_t γ_t·x_t,   obs² = Σ_t γ_t·x_t²
/// ```
fn e_step(model: &GaussianHmm, xs: &[f64]) -> Result<Stats, DecodeError> {
    let k = model.n_states();
    let fwd = forward(model, xs)?;
    let beta = backward(model, &fwd);
    let gamma = smooth(&fwd, &beta);
    let mut trans = vec![0.0; k * k];
    for t in 0..xs.len() - 1 {
        let alpha = fwd.filtered.row(t);
        let b_next = fwd.scaled_b.row(t + 1);
        let beta_next = beta.row(t + 1);
        let inv_scale = fwd.inv_scale[t + 1];
        for (i, &a_i) in alpha.iter().enumerate() {
            let row = model.transmat_row(i);
            let sums = &mut trans[i * k..(i + 1) * k];
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum += a_i * row[j] * b_next[j] * beta_next[j] * inv_scale;
            }
        }
    }
    let mut post = vec![0.0; k];
    let mut obs = vec![0.0; k];
    let mut obs2 = vec![0.0; k];
    for (g, &x) in gamma.rows().zip(xs) {
        for s in 0..k {
            post[s] += g[s];
            obs[s] += g[s] * x;
            obs2[s] += g[s] * (x * x);
        }
    }
    Ok(Stats {
        loglik: fwd.prefix_loglik[xs.len() - 1],
        start: gamma.row(0).to_vec(),
        trans,
        post,
        obs,
        obs2,
    })
}

/// The M-step, in hmmlearn's order:
///
/// ```text
/// 1. π   = normalise(max(startprob_prior − 1 + start, 0)), entries 0 in the old π stay 0
/// 2. A_i = normalise(max(transmat_prior − 1 + trans_i, 0)), entries 0 in the old A stay 0
/// 3. μ   = (means_weight·means_prior + obs) / (means_weight + post)
/// 4. σ²  = (covars_prior + means_weight·(μ − means_prior)² + obs² − 2·μ·obs + μ²·post)
///          / max(max(covars_weight − 1, 0) + post, 1e-5)
/// ```
///
/// Step 4 uses the **new** μ from step 3: with no priors it is then Σ_t γ_t (x_t − μ)² /
/// Σ_t γ_t, the γ-weighted variance about the new mean. `min_covar` plays no part
/// (hmmlearn adds it only when initialising covariances). A vector summing to 0 is left
/// at 0, as hmmlearn's `normalize` does; validation then reports it.
fn m_step(model: &GaussianHmm, stats: &Stats, priors: &Priors) -> Result<GaussianHmm, ModelError> {
    let k = model.n_states();
    let startprob = normalised(
        stats
            .start
            .iter()
            .zip(model.startprob())
            .map(|(&s, &old)| reestimated(priors.startprob, s, old))
            .collect(),
    );
    let transmat = (0..k)
        .map(|i| {
            normalised(
                stats.trans[i * k..(i + 1) * k]
                    .iter()
                    .zip(model.transmat_row(i))
                    .map(|(&s, &old)| reestimated(priors.transmat, s, old))
                    .collect(),
            )
        })
        .collect();
    let means: Vec<f64> = (0..k)
        .map(|s| {
            (priors.means_weight * priors.means + stats.obs[s])
                / (priors.means_weight + stats.post[s])
        })
        .collect();
    let variances = (0..k)
        .map(|s| {
            let mu = means[s];
            let diff = mu - priors.means;
            let numerator = priors.means_weight * (diff * diff) + stats.obs2[s]
                - 2.0 * mu * stats.obs[s]
                + (mu * mu) * stats.post[s];
            let denominator = (priors.covars_weight - 1.0).max(0.0) + stats.post[s];
            (priors.covars + numerator) / denominator.max(1e-5)
        })
        .collect();
    GaussianHmm::new(HmmParams {
        startprob,
        transmat,
        means,
        variances,
    })
}

/// `max(prior − 1 + expected, 0)`, or 0 where the old probability was exactly 0 (a
/// structural zero stays one).
#[inline]
fn reestimated(prior: f64, expected: f64, old: f64) -> f64 {
    if old == 0.0 {
        0.0
    } else {
        (prior - 1.0 + expected).max(0.0)
    }
}

/// Divides by the sum, unless the sum is 0.
fn normalised(mut p: Vec<f64>) -> Vec<f64> {
    let sum: f64 = p.iter().sum();
    if sum != 0.0 {
        for v in &mut p {
            *v /= sum;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::regime::{log_density, test_support::two_state, Posteriors};

    /// One iteration over 3 observations, against the textbook formulas computed by
    /// enumerating all 8 paths: γ and ξ are ratios of path-probability sums.
    #[test]
    fn one_iteration_matches_enumeration() {
        let model = two_state();
        let xs = [0.012, -0.035, 0.002];
        let joint = |z: &[usize]| {
            let b =
                |t: usize| log_density(xs[t], model.means()[z[t]], model.variances()[z[t]]).exp();
            model.startprob()[z[0]]
                * b(0)
                * model.transition(z[0], z[1])
                * b(1)
                * model.transition(z[1], z[2])
                * b(2)
        };
        let paths: Vec<[usize; 3]> = (0..8).map(|m| [m >> 2 & 1, m >> 1 & 1, m & 1]).collect();
        let total: f64 = paths.iter().map(|z| joint(z)).sum();
        let gamma = |t: usize, k: usize| {
            paths
                .iter()
                .filter(|z| z[t] == k)
                .map(|z| joint(z))
                .sum::<f64>()
                / total
        };
        let xi = |i: usize, j: usize| {
            (0..2)
                .map(|t| {
                    paths
                        .iter()
                        .filter(|z| z[t] == i && z[t + 1] == j)
                        .map(|z| joint(z))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / total
        };
        let fit = baum_welch(&model, &xs, 1, &Priors::default()).unwrap();
        assert!((fit.loglik_history[0] - total.ln()).abs() < 1e-12);
        let fitted = &fit.model;
        for k in 0..2 {
            assert!((fitted.startprob()[k] - gamma(0, k)).abs() < 1e-14);
            let post: f64 = (0..3).map(|t| gamma(t, k)).sum();
            let mean = (0..3).map(|t| gamma(t, k) * xs[t]).sum::<f64>() / post;
            let var = (0..3)
                .map(|t| gamma(t, k) * (xs[t] - mean).powi(2))
                .sum::<f64>()
                / post;
            assert!((fitted.means()[k] - mean).abs() < 1e-15);
            assert!((fitted.variances()[k] - var).abs() < 1e-15 * var.max(1.0) + 1e-18);
            let row: f64 = (0..2).map(|j| xi(k, j)).sum();
            for j in 0..2 {
                assert!((fitted.transition(k, j) - xi(k, j) / row).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn zero_iterations_return_the_start() {
        let model = two_state();
        let fit = baum_welch(&model, &[0.01, 0.02], 0, &Priors::default()).unwrap();
        assert_eq!(fit.model, model);
        assert!(fit.loglik_history.is_empty());
    }

    #[test]
    fn the_likelihood_never_falls_without_priors() {
        let model = two_state();
        let xs: Vec<f64> = (0..200)
            .map(|t| {
                let wave = ((t as f64) * 0.7).sin() * 0.01;
                if (t / 25) % 2 == 0 {
                    wave
                } else {
                    3.0 * wave - 0.002
                }
            })
            .collect();
        let fit = baum_welch(&model, &xs, 15, &Priors::default()).unwrap();
        for w in fit.loglik_history.windows(2) {
            assert!(w[1] >= w[0] - 1e-9, "{w:?}");
        }
        let last = Posteriors::compute(&fit.model, &xs).unwrap().loglik();
        assert!(last >= fit.loglik_history[14] - 1e-9);
    }

    #[test]
    fn a_covars_prior_raises_every_variance_by_prior_over_post() {
        let model = two_state();
        let xs = [0.012, -0.035, 0.002, 0.004];
        let plain = baum_welch(&model, &xs, 1, &Priors::default())
            .unwrap()
            .model;
        let priors = Priors {
            covars: 0.01,
            ..Priors::default()
        };
        let with_prior = baum_welch(&model, &xs, 1, &priors).unwrap().model;
        let post = Posteriors::compute(&model, &xs).unwrap();
        for k in 0..2 {
            let mass: f64 = post.smoothed().rows().map(|g| g[k]).sum();
            let raised = with_prior.variances()[k] - plain.variances()[k];
            assert!((raised - 0.01 / mass).abs() < 1e-12, "{raised}");
        }
    }

    #[test]
    fn a_state_with_no_support_is_reported() {
        // State 1 can never be entered: its γ is 0, so its mean would be 0/0.
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![1.0, 0.0],
            transmat: vec![vec![1.0, 0.0], vec![0.5, 0.5]],
            means: vec![0.0, 0.0],
            variances: vec![1e-4, 1e-4],
        })
        .unwrap();
        let err = baum_welch(&model, &[0.01, -0.01], 3, &Priors::default()).unwrap_err();
        assert!(
            matches!(err, FitError::Degenerate { iteration: 0, .. }),
            "{err}"
        );
    }
}
