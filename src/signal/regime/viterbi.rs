//! The most likely regime path (Viterbi), in log space.

use super::{emission::log_emission_into, DecodeError, FilterError, GaussianHmm};

/// The single most likely state sequence and its joint log-probability.
#[derive(Debug, Clone, PartialEq)]
pub struct ViterbiPath {
    /// argmax_z p(x, z): one state index per observation.
    pub path: Vec<usize>,
    /// max_z log p(x, z), the joint log-probability of the path and the data (not a
    /// conditional: it is below [`Posteriors::loglik`](super::Posteriors::loglik)).
    pub log_prob: f64,
}

/// Decodes the most likely path, as hmmlearn's `decode(X, algorithm="viterbi")`:
///
/// ```text
/// δ_0[k] = log π[k] + log b_0[k]
/// δ_t[j] = max_i (δ_{t−1}[i] + log A[i][j]) + log b_t[j],   ψ_t[j] = that argmax
/// z_{T−1} = argmax_j δ_{T−1}[j],  z_t = ψ_{t+1}[z_{t+1}],   log_prob = max_j δ_{T−1}[j]
/// ```
///
/// Log space never underflows, and a zero probability is `−∞`, which no path takes
/// while another is possible. Every argmax takes the **first** index among ties (a
/// strict `>` scan from index 0), so equal regimes decode to the lower-numbered one.
///
/// # Errors
/// [`DecodeError::Empty`] for no observations; [`DecodeError::Bar`] for the first one
/// that is not finite, or after which every path has probability zero.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{viterbi, GaussianHmm, HmmParams};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.9, 0.1], vec![0.1, 0.9]],
///     means: vec![0.0, 0.0],
///     variances: vec![1e-4, 1e-2],
/// })
/// .unwrap();
/// let best = viterbi(&model, &[0.001, -0.002, 0.3, -0.25, 0.001]).unwrap();
/// assert_eq!(best.path, [0, 0, 1, 1, 0]);
/// ```
pub fn viterbi(model: &GaussianHmm, xs: &[f64]) -> Result<ViterbiPath, DecodeError> {
    if xs.is_empty() {
        return Err(DecodeError::Empty);
    }
    let k = model.n_states();
    let log_start: Vec<f64> = model.startprob().iter().map(|p| p.ln()).collect();
    let log_trans: Vec<f64> = model.transmat_flat().iter().map(|p| p.ln()).collect();
    let mut log_b = vec![0.0; k];
    let mut delta = vec![0.0; k];
    let mut next = vec![0.0; k];
    // ψ_t[j] for t ≥ 1, row-major; row 0 is unused.
    let mut back = vec![0usize; xs.len() * k];
    for (t, &x) in xs.iter().enumerate() {
        if !x.is_finite() {
            return Err(DecodeError::Bar {
                bar: t,
                cause: FilterError::NonFinite(x),
            });
        }
        log_emission_into(model, x, &mut log_b);
        if t == 0 {
            for ((d, &s), &b) in delta.iter_mut().zip(&log_start).zip(&log_b) {
                *d = s + b;
            }
        } else {
            let back_t = &mut back[t * k..(t + 1) * k];
            for (j, ((d, psi), &b)) in next.iter_mut().zip(back_t).zip(&log_b).enumerate() {
                let (best, arg) = first_max((0..k).map(|i| delta[i] + log_trans[i * k + j]));
                *d = best + b;
                *psi = arg;
            }
            std::mem::swap(&mut delta, &mut next);
        }
        if first_max(delta.iter().copied()).0 == f64::NEG_INFINITY {
            return Err(DecodeError::Bar {
                bar: t,
                cause: FilterError::Impossible(x),
            });
        }
    }
    let (log_prob, last) = first_max(delta.iter().copied());
    let mut path = vec![0; xs.len()];
    path[xs.len() - 1] = last;
    for t in (1..xs.len()).rev() {
        path[t - 1] = back[t * k + path[t]];
    }
    Ok(ViterbiPath { path, log_prob })
}

/// The largest value and the first index holding it; `(−∞, 0)` when all are `−∞`.
#[inline]
fn first_max(values: impl Iterator<Item = f64>) -> (f64, usize) {
    let mut best = (f64::NEG_INFINITY, 0);
    for (i, v) in values.enumerate() {
        if v > best.0 {
            best = (v, i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::regime::{log_density, test_support::two_state, HmmParams};

    #[test]
    fn small_case_matches_the_best_of_all_paths() {
        let model = two_state();
        let xs = [0.012, -0.035, 0.002];
        let log_joint = |z: &[usize]| {
            let lb = |t: usize| log_density(xs[t], model.means()[z[t]], model.variances()[z[t]]);
            let mut lp = model.startprob()[z[0]].ln() + lb(0);
            for t in 1..3 {
                lp += model.transition(z[t - 1], z[t]).ln() + lb(t);
            }
            lp
        };
        let (best, best_lp) = (0..8)
            .map(|m| vec![m >> 2 & 1, m >> 1 & 1, m & 1])
            .map(|z| {
                let lp = log_joint(&z);
                (z, lp)
            })
            .fold((vec![], f64::NEG_INFINITY), |acc, (z, lp)| {
                if lp > acc.1 {
                    (z, lp)
                } else {
                    acc
                }
            });
        let got = viterbi(&model, &xs).unwrap();
        assert_eq!(got.path, best);
        assert!((got.log_prob - best_lp).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_the_first_index() {
        // Two identical states: every path has the same probability, so every argmax is
        // a tie and the path is all zeros.
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![0.5, 0.5],
            transmat: vec![vec![0.5, 0.5], vec![0.5, 0.5]],
            means: vec![0.0, 0.0],
            variances: vec![1e-4, 1e-4],
        })
        .unwrap();
        let got = viterbi(&model, &[0.01, -0.02, 0.0, 0.03]).unwrap();
        assert_eq!(got.path, [0, 0, 0, 0]);
        // A back-pointer tie after a strict final choice: state 1 wins the last bar
        // (smaller variance at its mean), and both predecessors reach it equally.
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![0.5, 0.5],
            transmat: vec![vec![0.5, 0.5], vec![0.5, 0.5]],
            means: vec![0.0, 1.0],
            variances: vec![1.0, 1.0],
        })
        .unwrap();
        // x_0 = 0.5 is equidistant from both means: δ_0 ties.
        let got = viterbi(&model, &[0.5, 1.0]).unwrap();
        assert_eq!(got.path, [0, 1]);
    }

    #[test]
    fn a_zero_transition_is_never_taken() {
        let model = GaussianHmm::new(HmmParams {
            startprob: vec![1.0, 0.0],
            transmat: vec![vec![1.0, 0.0], vec![0.5, 0.5]],
            means: vec![0.0, 0.1],
            variances: vec![1e-4, 1e-4],
        })
        .unwrap();
        let got = viterbi(&model, &[0.0, 0.1, 0.1]).unwrap();
        assert_eq!(got.path, [0, 0, 0]);
        assert!(got.log_prob.is_finite());
    }
}
