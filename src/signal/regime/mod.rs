//! Market regimes: a hidden Markov model with Gaussian returns, matching hmmlearn's
//! `GaussianHMM` (one feature, `implementation="scaling"`).
//!
//! A market is taken to switch between K hidden regimes (calm up-trend, volatile
//! sell-off, …). Regime k draws each bar's return from N(μ_k, σ²_k) and moves to regime j
//! at the next bar with probability `A[k][j]`; π is the first bar's distribution. Given the
//! returns, the model says how likely each regime is: online, bar by bar, for a strategy
//! to size or gate its trades (the filter), or in hindsight over a whole series for
//! research (smoothing, Viterbi), and it fits its parameters to a series (Baum–Welch).
//!
//! | item | what |
//! | --- | --- |
//! | [`GaussianHmm`], [`HmmParams`], [`ModelError`] | the validated parameters, their file form (hmmlearn's names), every problem with them |
//! | [`log_density`], [`log_emission`] | log N(x; μ_k, σ²_k) |
//! | [`RegimeFilter`], [`FilterError`] | the online scaled forward filter: p(z_t \| x_0..x_t) and log p(x_0..x_t), allocation-free per bar |
//! | [`Posteriors`], [`DecodeError`] | a whole series: filtered and smoothed posteriors, the log-likelihood |
//! | [`viterbi()`], [`ViterbiPath`] | the most likely regime path and its joint log-probability |
//! | [`baum_welch`], [`Priors`], [`Fit`], [`FitError`] | exactly N EM iterations, with hmmlearn's E- and M-steps and priors |
//! | [`Lattice`] | a T × K table of per-bar, per-state values |
//!
//! Everything is `f64` and K-general. The recursions are the scaled (Rabiner) forms
//! hmmlearn uses, term for term, so results agree with hmmlearn 0.3.3 to rounding (the
//! `tests/regime.rs` fixture: log-likelihoods within 1e-8, posteriors within 1e-9, the
//! Viterbi path exactly). The one deliberate difference is documented on the filter:
//! emission densities are scaled by their per-bar maximum before the forward step, which
//! changes only rounding and never underflows where hmmlearn would raise.
//!
//! # Examples
//! ```
//! use tickpipe::signal::regime::{viterbi, GaussianHmm, HmmParams, Posteriors, RegimeFilter};
//! let model = GaussianHmm::new(HmmParams {
//!     startprob: vec![0.8, 0.2],
//!     transmat: vec![vec![0.97, 0.03], vec![0.08, 0.92]],
//!     means: vec![0.0008, -0.0015],
//!     variances: vec![0.007f64.powi(2), 0.022f64.powi(2)],
//! })
//! .unwrap();
//! let returns = [0.004, -0.002, 0.006, -0.041, 0.035, -0.028, 0.001];
//! let mut filter = RegimeFilter::new(&model);
//! for &r in &returns {
//!     filter.update(r).unwrap();
//! }
//! let batch = Posteriors::compute(&model, &returns).unwrap();
//! assert_eq!(filter.posterior().unwrap(), batch.filtered().row(6));
//! assert_eq!(filter.loglik(), batch.loglik());
//! assert_eq!(viterbi(&model, &returns).unwrap().path[3..6], [1, 1, 1]);
//! ```

mod decode;
mod emission;
mod filter;
mod fit;
mod lattice;
mod model;
#[cfg(test)]
mod test_support;
mod viterbi;

pub use decode::{DecodeError, Posteriors};
pub use emission::{log_density, log_emission};
pub use filter::{FilterError, RegimeFilter};
pub use fit::{baum_welch, Fit, FitError, Priors};
pub use lattice::Lattice;
pub use model::{GaussianHmm, HmmParams, ModelError, SUM_TOLERANCE};
pub use viterbi::{viterbi, ViterbiPath};
