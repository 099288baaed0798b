//! Small models for the unit tests.

use super::{GaussianHmm, HmmParams};

/// Two regimes: calm (μ = +0.1%, σ = 1%) and volatile (μ = −0.2%, σ = 2%), equally likely
/// at the start.
pub(super) fn two_state() -> GaussianHmm {
    GaussianHmm::new(HmmParams {
        startprob: vec![0.5, 0.5],
        transmat: vec![vec![0.9, 0.1], vec![0.2, 0.8]],
        means: vec![0.001, -0.002],
        variances: vec![1e-4, 4e-4],
    })
    .unwrap()
}
