//! Batch inference over a whole series: the forward and backward passes, and the
//! filtered and smoothed posteriors.

use std::fmt;

use super::{
    emission::log_emission_into,
    filter::{forward_step, FilterError},
    GaussianHmm, Lattice,
};

/// Why a series could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DecodeError {
    /// There are no observations; every quantity needs at least one.
    Empty,
    /// Observation `bar` (0-based) cannot be taken; see [`FilterError`].
    Bar {
        /// Index of the observation in the series.
        bar: usize,
        /// What is wrong with it.
        cause: FilterError,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => f.write_str("there are no observations"),
            DecodeError::Bar { bar, cause } => write!(f, "observation {bar}: {cause}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The forward pass over a series, with what the backward pass and ξ need.
#[derive(Debug)]
pub(super) struct ForwardPass {
    /// α̂_t, the filtered posteriors.
    pub filtered: Lattice,
    /// `b'_t[k] = exp(log b_t[k] − m_t)`, the shifted emission densities.
    pub scaled_b: Lattice,
    /// `1/c'_t`, so that `b'_t[k]·(1/c'_t) = b_t[k]/c_t`.
    pub inv_scale: Vec<f64>,
    /// log p(x_0..x_t) = Σ_{s≤t} log c_s.
    pub prefix_loglik: Vec<f64>,
}

/// Runs [`forward_step`] over `xs`, allocating the lattices once.
pub(super) fn forward(model: &GaussianHmm, xs: &[f64]) -> Result<ForwardPass, DecodeError> {
    if xs.is_empty() {
        return Err(DecodeError::Empty);
    }
    let k = model.n_states();
    let mut filtered = Lattice::zeros(xs.len(), k);
    let mut scaled_b = Lattice::zeros(xs.len(), k);
    let mut inv_scale = Vec::with_capacity(xs.len());
    let mut prefix_loglik = Vec::with_capacity(xs.len());
    let mut log_b = vec![0.0; k];
    let mut loglik = 0.0;
    for (t, &x) in xs.iter().enumerate() {
        let fail = |cause| DecodeError::Bar { bar: t, cause };
        if !x.is_finite() {
            return Err(fail(FilterError::NonFinite(x)));
        }
        log_emission_into(model, x, &mut log_b);
        let step = if t == 0 {
            forward_step(
                model,
                None,
                &log_b,
                scaled_b.row_mut(t),
                filtered.row_mut(t),
            )
        } else {
            let (prev, alpha) = filtered.read_and_write(t - 1, t);
            forward_step(model, Some(prev), &log_b, scaled_b.row_mut(t), alpha)
        }
        .map_err(|()| fail(FilterError::Impossible(x)))?;
        loglik += step.log_scale;
        inv_scale.push(step.inv_scale);
        prefix_loglik.push(loglik);
    }
    Ok(ForwardPass {
        filtered,
        scaled_b,
        inv_scale,
        prefix_loglik,
    })
}

/// The scaled backward pass:
///
/// ```text
/// β̂_{T−1}[i] = 1        β̂_t[i] = (Σ_j A[i][j]·b_{t+1}[j]·β̂_{t+1}[j]) / c_{t+1}
/// ```
///
/// so that α̂_t ⊙ β̂_t ∝ p(z_t | x_0..x_{T−1}). With the shifted b' of the forward pass,
/// `b_{t+1}/c_{t+1} = b'_{t+1}·(1/c'_{t+1})`.
pub(super) fn backward(model: &GaussianHmm, fwd: &ForwardPass) -> Lattice {
    let k = model.n_states();
    let len = fwd.filtered.len();
    let mut beta = Lattice::zeros(len, k);
    beta.row_mut(len - 1).fill(1.0);
    for t in (0..len - 1).rev() {
        let b_next = fwd.scaled_b.row(t + 1);
        let inv_scale = fwd.inv_scale[t + 1];
        let (next, row) = beta.read_and_write(t + 1, t);
        for (i, out) in row.iter_mut().enumerate() {
            let mut sum = 0.0;
            for ((&a, &b), &beta_next) in model.transmat_row(i).iter().zip(b_next).zip(next) {
                sum += a * b * beta_next;
            }
            *out = sum * inv_scale;
        }
    }
    beta
}

/// γ_t = α̂_t ⊙ β̂_t, normalised row by row (a row summing to 0 is left at 0, as
/// hmmlearn's `normalize` does).
pub(super) fn smooth(fwd: &ForwardPass, beta: &Lattice) -> Lattice {
    let mut gamma = fwd.filtered.clone();
    for t in 0..gamma.len() {
        let row = gamma.row_mut(t);
        for (g, &b) in row.iter_mut().zip(beta.row(t)) {
            *g *= b;
        }
        let sum: f64 = row.iter().sum();
        if sum != 0.0 {
            for g in row.iter_mut() {
                *g /= sum;
            }
        }
    }
    gamma
}

/// The regime posteriors of a whole series, and its log-likelihood.
///
/// - `filtered[t]` = p(z_t | x_0..x_t): what was knowable at bar t (the forward pass;
///   equal to [`RegimeFilter`](super::RegimeFilter)'s output);
/// - `smoothed[t]` = p(z_t | x_0..x_{T−1}): with hindsight (forward and backward), what
///   hmmlearn's `predict_proba` returns;
/// - `loglik` = log p(x_0..x_{T−1}) = Σ_t log c_t, hmmlearn's `score`.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{GaussianHmm, HmmParams, Posteriors};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.9, 0.1], vec![0.2, 0.8]],
///     means: vec![0.0, 0.0],
///     variances: vec![1e-4, 1e-3],
/// })
/// .unwrap();
/// let post = Posteriors::compute(&model, &[0.001, 0.08, -0.002]).unwrap();
/// // The last bar is the same in both views: nothing comes after it.
/// assert_eq!(post.filtered().row(2), post.smoothed().row(2));
/// // The 8% move is the volatile state, whichever view.
/// assert!(post.smoothed().row(1)[1] > 0.99);
/// assert_eq!(post.prefix_loglik()[2], post.loglik());
/// ```
#[derive(Debug, Clone)]
pub struct Posteriors {
    filtered: Lattice,
    smoothed: Lattice,
    prefix_loglik: Vec<f64>,
}

impl Posteriors {
    /// Runs the forward and backward passes over `xs`.
    ///
    /// # Errors
    /// [`DecodeError::Empty`] for no observations; [`DecodeError::Bar`] for the first one
    /// that is not finite or has zero probability under the model.
    pub fn compute(model: &GaussianHmm, xs: &[f64]) -> Result<Posteriors, DecodeError> {
        let fwd = forward(model, xs)?;
        let beta = backward(model, &fwd);
        let smoothed = smooth(&fwd, &beta);
        Ok(Posteriors {
            filtered: fwd.filtered,
            smoothed,
            prefix_loglik: fwd.prefix_loglik,
        })
    }

    /// p(z_t | x_0..x_t) for every t.
    pub fn filtered(&self) -> &Lattice {
        &self.filtered
    }

    /// p(z_t | x_0..x_{T−1}) for every t.
    pub fn smoothed(&self) -> &Lattice {
        &self.smoothed
    }

    /// log p(x_0..x_t) for every t.
    pub fn prefix_loglik(&self) -> &[f64] {
        &self.prefix_loglik
    }

    /// log p(x_0..x_{T−1}).
    pub fn loglik(&self) -> f64 {
        self.prefix_loglik[self.prefix_loglik.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::regime::{log_density, test_support::two_state};

    /// p(x_0..x_2, z) for every path z of 2 states over 3 bars, summed by brute force.
    fn joint(model: &GaussianHmm, xs: &[f64], path: &[usize]) -> f64 {
        let b =
            |t: usize, k: usize| log_density(xs[t], model.means()[k], model.variances()[k]).exp();
        let mut p = model.startprob()[path[0]] * b(0, path[0]);
        for t in 1..path.len() {
            p *= model.transition(path[t - 1], path[t]) * b(t, path[t]);
        }
        p
    }

    #[test]
    fn small_case_matches_enumeration_over_all_paths() {
        let model = two_state();
        let xs = [0.012, -0.035, 0.002];
        let paths: Vec<[usize; 3]> = (0..8).map(|m| [m >> 2 & 1, m >> 1 & 1, m & 1]).collect();
        let total: f64 = paths.iter().map(|z| joint(&model, &xs, z)).sum();
        let post = Posteriors::compute(&model, &xs).unwrap();
        assert!((post.loglik() - total.ln()).abs() < 1e-12);
        for t in 0..3 {
            for k in 0..2 {
                let mass: f64 = paths
                    .iter()
                    .filter(|z| z[t] == k)
                    .map(|z| joint(&model, &xs, z))
                    .sum();
                assert!((post.smoothed().row(t)[k] - mass / total).abs() < 1e-14);
            }
        }
        // Filtered at t = 1: only the first two bars count.
        let prefix: f64 = [[0, 0], [0, 1], [1, 0], [1, 1]]
            .iter()
            .map(|z| joint(&model, &xs[..2], z))
            .sum();
        let in_calm: f64 = [[0, 0], [1, 0]]
            .iter()
            .map(|z| joint(&model, &xs[..2], z))
            .sum();
        assert!((post.filtered().row(1)[0] - in_calm / prefix).abs() < 1e-14);
        assert!((post.prefix_loglik()[1] - prefix.ln()).abs() < 1e-12);
    }

    #[test]
    fn three_states_match_enumeration_too() {
        use crate::signal::regime::HmmParams;
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![0.6, 0.3, 0.1],
            transmat: vec![
                vec![0.8, 0.15, 0.05],
                vec![0.1, 0.7, 0.2],
                vec![0.25, 0.25, 0.5],
            ],
            means: vec![0.001, -0.001, -0.004],
            variances: vec![5e-5, 2e-4, 9e-4],
        })
        .unwrap();
        let xs = [0.004, -0.03, 0.011, -0.002];
        let paths: Vec<Vec<usize>> = (0..81)
            .map(|m: usize| (0..4).rev().map(|t| m / 3usize.pow(t) % 3).collect())
            .collect();
        let total: f64 = paths.iter().map(|z| joint(&model, &xs, z)).sum();
        let post = Posteriors::compute(&model, &xs).unwrap();
        assert!((post.loglik() - total.ln()).abs() < 1e-12);
        for t in 0..4 {
            for k in 0..3 {
                let mass: f64 = paths
                    .iter()
                    .filter(|z| z[t] == k)
                    .map(|z| joint(&model, &xs, z))
                    .sum();
                assert!((post.smoothed().row(t)[k] - mass / total).abs() < 1e-13);
            }
        }
    }

    #[test]
    fn no_observations_is_an_error() {
        assert_eq!(
            Posteriors::compute(&two_state(), &[]).unwrap_err(),
            DecodeError::Empty
        );
    }

    #[test]
    fn a_bad_observation_is_named_by_index() {
        let err = Posteriors::compute(&two_state(), &[0.0, f64::INFINITY]).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Bar {
                bar: 1,
                cause: FilterError::NonFinite(f64::INFINITY)
            }
        );
    }
}
