//! Gaussian emission log-densities, log N(x; μ_k, σ²_k).

use super::{GaussianHmm, Lattice};

/// log(2π), the constant of the one-dimensional normal log-density, as numpy computes
/// it: `np.log(2 * np.pi)`, the log of the double nearest 2π. That is one ulp below the
/// double nearest the true log 2π; using numpy's value keeps the densities bit-equal.
const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// log N(x; μ, σ²) = −½·(log 2π + log σ² + (x − μ)²/σ²).
///
/// σ² is floored at the smallest positive normal double (numpy's `finfo(float).tiny`,
/// [`f64::MIN_POSITIVE`]), as hmmlearn does, so a collapsed variance gives a huge but
/// finite density instead of `log 0 = −∞` and a NaN downstream. The terms are added in
/// hmmlearn's order so the result agrees with it to the last bit or two.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::log_density;
/// // The standard normal at its mean: −½·log 2π.
/// let expected = -0.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((log_density(0.0, 0.0, 1.0) - expected).abs() < 1e-15);
/// ```
#[inline]
pub fn log_density(x: f64, mean: f64, variance: f64) -> f64 {
    let variance = variance.max(f64::MIN_POSITIVE);
    let diff = x - mean;
    -0.5 * (LN_2PI + variance.ln() + diff * diff / variance)
}

/// Writes log N(x; μ_k, σ²_k) for every state k into `out` (length K).
#[inline]
pub(super) fn log_emission_into(model: &GaussianHmm, x: f64, out: &mut [f64]) {
    debug_assert_eq!(out.len(), model.n_states());
    for ((slot, &mean), &variance) in out.iter_mut().zip(model.means()).zip(model.variances()) {
        *slot = log_density(x, mean, variance);
    }
}

/// The T × K matrix of emission log-densities, `log_emission[t][k] = log N(x_t; μ_k, σ²_k)`.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{log_emission, GaussianHmm, HmmParams};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![1.0],
///     transmat: vec![vec![1.0]],
///     means: vec![0.0],
///     variances: vec![1.0],
/// })
/// .unwrap();
/// let table = log_emission(&model, &[0.0, 1.0]);
/// assert_eq!(table.len(), 2);
/// assert!((table.row(0)[0] - table.row(1)[0] - 0.5).abs() < 1e-15);
/// ```
pub fn log_emission(model: &GaussianHmm, xs: &[f64]) -> Lattice {
    let mut table = Lattice::zeros(xs.len(), model.n_states());
    for (t, &x) in xs.iter().enumerate() {
        log_emission_into(model, x, table.row_mut(t));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constant_is_log_of_the_double_nearest_two_pi() {
        assert_eq!(LN_2PI, (2.0 * std::f64::consts::PI).ln());
    }

    #[test]
    fn a_hand_checked_density() {
        // x = 0.01, μ = 0, σ² = 1e-4: one standard deviation out.
        let expected = -0.5 * (LN_2PI + (1e-4f64).ln() + 1.0);
        assert!((log_density(0.01, 0.0, 1e-4) - expected).abs() < 1e-12);
    }

    #[test]
    fn a_zero_variance_is_floored_not_infinite() {
        let at_mean = log_density(0.0, 0.0, 0.0);
        assert!(at_mean.is_finite() && at_mean > 300.0, "{at_mean}");
        assert!(log_density(1.0, 0.0, 0.0) < -1e300);
    }
}
