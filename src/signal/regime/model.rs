//! The parameters of a Gaussian hidden Markov model, and their validation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How far a probability vector's sum may stray from 1 and still be accepted.
///
/// Parameters written out by hmmlearn (or by [`baum_welch`](super::baum_welch)) are
/// normalised in floating point, so their rows sum to 1 only to a few ulps; 1e-6 accepts
/// those and still catches a row typed wrongly by hand.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// The parameters exactly as written in a model file, named as hmmlearn names them.
///
/// This is the unchecked form; [`GaussianHmm::new`] validates it. In JSON:
/// `{"startprob":[…],"transmat":[[…],…],"means":[…],"variances":[…]}`, with
/// `transmat` row = from, column = to, and variances (σ²), not standard deviations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmmParams {
    /// π: the distribution of the first state.
    pub startprob: Vec<f64>,
    /// A: `transmat[i][j]` = p(z_{t+1} = j | z_t = i).
    pub transmat: Vec<Vec<f64>>,
    /// μ_k: each state's mean return.
    pub means: Vec<f64>,
    /// σ²_k: each state's variance of returns.
    pub variances: Vec<f64>,
}

/// A validated K-state hidden Markov model with one-dimensional Gaussian emissions.
///
/// The transition matrix is held row-major in one allocation, so the filter's inner
/// loop walks contiguous memory.
///
/// # Examples
/// ```
/// use tickpipe::signal::regime::{GaussianHmm, HmmParams};
/// let model = GaussianHmm::new(HmmParams {
///     startprob: vec![0.5, 0.5],
///     transmat: vec![vec![0.9, 0.1], vec![0.2, 0.8]],
///     means: vec![0.001, -0.002],
///     variances: vec![1e-4, 4e-4],
/// })
/// .unwrap();
/// assert_eq!(model.n_states(), 2);
/// assert_eq!(model.transition(1, 0), 0.2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianHmm {
    startprob: Vec<f64>,
    /// K × K, row-major.
    transmat: Vec<f64>,
    means: Vec<f64>,
    variances: Vec<f64>,
}

impl GaussianHmm {
    /// Validates `params` completely and builds the model.
    ///
    /// # Errors
    /// [`ModelError`] listing every problem found: no states; lengths that disagree with
    /// `startprob`'s K; a probability that is negative or not finite; a probability
    /// vector (`startprob`, each `transmat` row) whose sum is not 1 within
    /// [`SUM_TOLERANCE`]; a mean that is not finite; a variance that is not finite and
    /// positive.
    pub fn new(params: HmmParams) -> Result<GaussianHmm, ModelError> {
        let problems = validate(&params);
        if !problems.is_empty() {
            return Err(ModelError { problems });
        }
        let HmmParams {
            startprob,
            transmat,
            means,
            variances,
        } = params;
        Ok(GaussianHmm {
            startprob,
            transmat: transmat.concat(),
            means,
            variances,
        })
    }

    /// K, the number of hidden states (regimes).
    #[inline]
    pub fn n_states(&self) -> usize {
        self.startprob.len()
    }

    /// π, the distribution of the first state.
    #[inline]
    pub fn startprob(&self) -> &[f64] {
        &self.startprob
    }

    /// `A[i][j]` = p(z_{t+1} = j | z_t = i).
    ///
    /// # Panics
    /// If `from` or `to` is not below [`n_states`](Self::n_states).
    #[inline]
    pub fn transition(&self, from: usize, to: usize) -> f64 {
        let k = self.n_states();
        assert!(from < k && to < k, "state out of range");
        self.transmat[from * k + to]
    }

    /// Row `from` of A: the distribution of the next state.
    ///
    /// # Panics
    /// If `from` is not below [`n_states`](Self::n_states).
    #[inline]
    pub fn transmat_row(&self, from: usize) -> &[f64] {
        let k = self.n_states();
        &self.transmat[from * k..(from + 1) * k]
    }

    /// A, row-major (K × K).
    #[inline]
    pub(super) fn transmat_flat(&self) -> &[f64] {
        &self.transmat
    }

    /// μ_k, each state's mean.
    #[inline]
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// σ²_k, each state's variance.
    #[inline]
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    /// The parameters in their file form (for writing JSON).
    pub fn to_params(&self) -> HmmParams {
        HmmParams {
            startprob: self.startprob.clone(),
            transmat: self
                .transmat
                .chunks_exact(self.n_states())
                .map(<[f64]>::to_vec)
                .collect(),
            means: self.means.clone(),
            variances: self.variances.clone(),
        }
    }
}

/// Every problem with a set of parameters, found by [`GaussianHmm::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    problems: Vec<String>,
}

impl ModelError {
    /// One line per problem, each naming the parameter (`transmat[1]`, `variances[0]`).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for ModelError {}

fn validate(params: &HmmParams) -> Vec<String> {
    let mut problems = Vec::new();
    let k = params.startprob.len();
    if k == 0 {
        problems.push("startprob is empty: a model needs at least one state".to_owned());
        return problems;
    }
    check_distribution("startprob", &params.startprob, &mut problems);
    if params.transmat.len() != k {
        problems.push(format!(
            "transmat has {} rows, but startprob has {k} states",
            params.transmat.len()
        ));
    }
    for (i, row) in params.transmat.iter().enumerate() {
        let name = format!("transmat[{i}]");
        if row.len() == k {
            check_distribution(&name, row, &mut problems);
        } else {
            problems.push(format!("{name} has {} entries, expected {k}", row.len()));
        }
    }
    for (name, values) in [("means", &params.means), ("variances", &params.variances)] {
        if values.len() != k {
            problems.push(format!(
                "{name} has {} entries, but startprob has {k} states",
                values.len()
            ));
        }
    }
    for (i, mean) in params.means.iter().enumerate() {
        if !mean.is_finite() {
            problems.push(format!("means[{i}] = {mean} is not finite"));
        }
    }
    for (i, variance) in params.variances.iter().enumerate() {
        if !(variance.is_finite() && *variance > 0.0) {
            problems.push(format!(
                "variances[{i}] = {variance} must be positive and finite"
            ));
        }
    }
    problems
}

/// A probability vector: entries finite and non-negative, summing to 1 within
/// [`SUM_TOLERANCE`].
fn check_distribution(name: &str, p: &[f64], problems: &mut Vec<String>) {
    let mut entries_ok = true;
    for (i, &value) in p.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            problems.push(format!(
                "{name}[{i}] = {value} is not a probability (finite and >= 0)"
            ));
            entries_ok = false;
        }
    }
    let sum: f64 = p.iter().sum();
    if entries_ok && (sum - 1.0).abs() > SUM_TOLERANCE {
        problems.push(format!(
            "{name} sums to {sum}, not 1 (tolerance {SUM_TOLERANCE:e})"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_state() -> HmmParams {
        HmmParams {
            startprob: vec![0.8, 0.2],
            transmat: vec![vec![0.97, 0.03], vec![0.08, 0.92]],
            means: vec![0.0008, -0.0015],
            variances: vec![4.9e-5, 4.84e-4],
        }
    }

    #[test]
    fn a_valid_model_round_trips_through_its_params() {
        let model = GaussianHmm::new(two_state()).unwrap();
        assert_eq!(model.n_states(), 2);
        assert_eq!(model.transmat_row(1), &[0.08, 0.92]);
        assert_eq!(model.to_params(), two_state());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut params = two_state();
        params.startprob = vec![0.8, 0.3];
        params.transmat[1] = vec![-0.1, 1.1];
        params.variances[0] = 0.0;
        params.means = vec![0.0];
        let err = GaussianHmm::new(params).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems().len(), 4, "{text}");
        assert!(text.contains("startprob sums to"), "{text}");
        assert!(text.contains("transmat[1][0] = -0.1"), "{text}");
        assert!(text.contains("variances[0] = 0"), "{text}");
        assert!(text.contains("means has 1 entries"), "{text}");
    }

    #[test]
    fn shapes_must_agree() {
        let mut params = two_state();
        params.transmat = vec![vec![1.0]];
        let text = GaussianHmm::new(params).unwrap_err().to_string();
        assert!(text.contains("transmat has 1 rows"), "{text}");
        assert!(text.contains("transmat[0] has 1 entries"), "{text}");
        let empty = HmmParams {
            startprob: vec![],
            transmat: vec![],
            means: vec![],
            variances: vec![],
        };
        assert!(GaussianHmm::new(empty).is_err());
    }

    #[test]
    fn sums_within_the_tolerance_are_accepted() {
        let mut params = two_state();
        params.startprob = vec![0.8 + 5e-7, 0.2];
        assert!(GaussianHmm::new(params).is_ok());
    }
}
