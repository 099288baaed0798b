//! Risk and return statistics of a daily return series, defined as empyrical defines
//! them (risk-free rate and required return zero, 252 trading days a year), so the
//! figures can be checked against it and compared with other tools' reports.
//!
//! Sums run left to right over the series, as bottleneck's `nanmean`/`nanstd` (which
//! empyrical uses) do; percentiles interpolate linearly between order statistics, as
//! numpy's default does.

use serde::Serialize;

/// Trading days in a year, for annualising.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// The statistics of one return series. Each field is named after the empyrical
/// function that computes it; a statistic with no value (a ratio over zero) is NaN in
/// Rust and `null` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskMetrics {
    /// `mean(r) / std₁(r) · √252`.
    pub sharpe_ratio: f64,
    /// `mean(r) · 252 / downside_risk`.
    pub sortino_ratio: f64,
    /// `√(mean(min(r, 0)²)) · √252`, the mean over every return (up days count as 0).
    pub downside_risk: f64,
    /// The worst fall from a running peak, a negative fraction (the first equity counts
    /// as a peak).
    pub max_drawdown: f64,
    /// `(Π(1 + r))^(252 / N) − 1`: growth per 252 bars, compounded.
    pub annual_return: f64,
    /// `std₁(r) · √252`.
    pub annual_volatility: f64,
    /// `annual_return / |max_drawdown|` (NaN without a drawdown).
    pub calmar_ratio: f64,
    /// R² of a least-squares line through `cumsum(log(1 + r))`: how steady the growth is.
    pub stability_of_timeseries: f64,
    /// `|P95(r)| / |P5(r)|`: the right tail against the left.
    pub tail_ratio: f64,
    /// `P5(r)`: the historical one-day value at risk at 95 %, a negative fraction.
    pub value_at_risk: f64,
    /// `Π(1 + r) − 1`: the whole period's return.
    pub cum_returns_final: f64,
}

impl RiskMetrics {
    /// The statistics of `returns` (simple daily returns). An empty series gives NaN
    /// everywhere.
    pub fn of(returns: &[f64]) -> RiskMetrics {
        let n = returns.len() as f64;
        let mean = mean(returns);
        let std = std_sample(returns, mean);
        let annual = TRADING_DAYS_PER_YEAR.sqrt();
        let downside_risk = {
            let squares: f64 = returns
                .iter()
                .map(|&r| r.min(0.0))
                .map(|d| d * d)
                .fold(0.0, |sum, x| sum + x);
            (squares / n).sqrt() * annual
        };
        let growth = returns.iter().fold(1.0, |product, r| product * (1.0 + r));
        let annual_return = growth.powf(TRADING_DAYS_PER_YEAR / n) - 1.0;
        let max_drawdown = max_drawdown(returns);
        let calmar_ratio = if max_drawdown < 0.0 {
            annual_return / max_drawdown.abs()
        } else {
            f64::NAN
        };
        let p95 = percentile(returns, 95.0);
        let p5 = percentile(returns, 5.0);
        RiskMetrics {
            sharpe_ratio: mean / std * annual,
            sortino_ratio: mean * TRADING_DAYS_PER_YEAR / downside_risk,
            downside_risk,
            max_drawdown,
            annual_return,
            annual_volatility: std * annual,
            calmar_ratio,
            stability_of_timeseries: stability(returns),
            tail_ratio: p95.abs() / p5.abs(),
            value_at_risk: p5,
            cum_returns_final: growth - 1.0,
        }
    }
}

/// Arithmetic mean, summed left to right (NaN when empty).
fn mean(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |sum, x| sum + x) / xs.len() as f64
}

/// Sample standard deviation (ddof = 1) around `mean`.
fn std_sample(xs: &[f64], mean: f64) -> f64 {
    let squares = xs
        .iter()
        .map(|x| (x - mean) * (x - mean))
        .fold(0.0, |sum, x| sum + x);
    (squares / (xs.len() as f64 - 1.0)).sqrt()
}

/// The worst fall from the running peak of the compounded curve, starting at 1 (so the
/// first equity is a peak), as a negative fraction; zero when it never falls.
fn max_drawdown(returns: &[f64]) -> f64 {
    // empyrical compounds from 100; the ratios are the same.
    let mut value = 100.0;
    let mut peak = value;
    let mut worst = 0.0_f64;
    for r in returns {
        value *= 1.0 + r;
        peak = peak.max(value);
        worst = worst.min((value - peak) / peak);
    }
    worst
}

/// The `q`-th percentile (0–100) with linear interpolation between order statistics:
/// numpy's default. NaN when `xs` is empty.
pub fn percentile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * q / 100.0;
    let below = h.floor();
    let i = below as usize;
    match sorted.get(i + 1) {
        Some(&next) => sorted[i] + (h - below) * (next - sorted[i]),
        None => sorted[i],
    }
}

/// R² of the ordinary least-squares fit of `cumsum(ln(1 + r))` against `0..N` (scipy's
/// `linregress(...).rvalue²`, from the population covariances).
fn stability(returns: &[f64]) -> f64 {
    let n = returns.len() as f64;
    let mut level = 0.0;
    let ys: Vec<f64> = returns
        .iter()
        .map(|r| {
            level += r.ln_1p();
            level
        })
        .collect();
    let x_mean = (n - 1.0) / 2.0;
    let y_mean = mean(&ys);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - x_mean;
        let dy = y - y_mean;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    r * r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let xs = [3.0, 1.0, 4.0, 1.5, 9.0];
        // sorted 1, 1.5, 3, 4, 9; h = 4 * q / 100
        assert_eq!(percentile(&xs, 0.0), 1.0);
        assert_eq!(percentile(&xs, 100.0), 9.0);
        assert_eq!(percentile(&xs, 50.0), 3.0);
        assert!((percentile(&xs, 5.0) - 1.1).abs() < 1e-12); // h = 0.2
        assert!((percentile(&xs, 95.0) - 8.0).abs() < 1e-12); // h = 3.8
        assert!(percentile(&[], 5.0).is_nan());
    }

    #[test]
    fn a_steady_curve() {
        // +1 % every day: no drawdown, no downside, perfectly stable.
        let r = [0.01; 10];
        let m = RiskMetrics::of(&r);
        assert_eq!(m.max_drawdown, 0.0);
        assert!(m.calmar_ratio.is_nan(), "no drawdown, no Calmar");
        assert_eq!(m.downside_risk, 0.0);
        assert!(m.sortino_ratio.is_infinite());
        assert!((m.stability_of_timeseries - 1.0).abs() < 1e-12);
        assert!((m.cum_returns_final - (1.01_f64.powi(10) - 1.0)).abs() < 1e-12);
        assert!((m.annual_return - (1.01_f64.powi(252) - 1.0)).abs() < 1e-9);
    }

    #[test]
    fn drawdown_counts_the_first_value_as_a_peak() {
        // 100 → 90 → 99 → 81: worst fall is 81/100 − 1.
        let r = [-0.1, 0.1, -(18.0 / 99.0)];
        assert!((max_drawdown(&r) + 0.19).abs() < 1e-12);
    }
}
