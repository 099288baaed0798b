//! Black–Scholes prices of European options, for the synthetic option chain.
//!
//! NIFTY options are European and cash-settled, so Black–Scholes on the index level with
//! a flat rate is the textbook model. Uses `libm` so that prices are bit-identical on
//! every platform (the synthetic session promises byte-identical streams per seed).

use crate::model::OptionType;

/// The standard normal cumulative distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Price of a European option on `spot` with `strike`, `years` to expiry, continuously
/// compounded `rate` and volatility `vol` (both annual, as fractions).
///
/// At or after expiry, or with no volatility, the price is the intrinsic value of the
/// forward. Never negative.
///
/// # Examples
/// ```
/// use tickpipe::{feed::synthetic::black_scholes, model::OptionType};
/// let call = black_scholes::price(OptionType::Call, 100.0, 100.0, 1.0, 0.05, 0.2);
/// assert!((call - 10.4506).abs() < 1e-4);
/// ```
pub fn price(kind: OptionType, spot: f64, strike: f64, years: f64, rate: f64, vol: f64) -> f64 {
    let discount = libm::exp(-rate * years.max(0.0));
    if years <= 0.0 || vol <= 0.0 {
        let forward_intrinsic = match kind {
            OptionType::Call => spot - strike * discount,
            OptionType::Put => strike * discount - spot,
        };
        return forward_intrinsic.max(0.0);
    }
    let sd = vol * libm::sqrt(years);
    let d1 = (libm::log(spot / strike) + (rate + 0.5 * vol * vol) * years) / sd;
    let d2 = d1 - sd;
    let value = match kind {
        OptionType::Call => spot * norm_cdf(d1) - strike * discount * norm_cdf(d2),
        OptionType::Put => strike * discount * norm_cdf(-d2) - spot * norm_cdf(-d1),
    };
    value.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // Hull, Options, Futures and Other Derivatives: S=K=100, T=1, r=5%, σ=20%.
        let call = price(OptionType::Call, 100.0, 100.0, 1.0, 0.05, 0.2);
        let put = price(OptionType::Put, 100.0, 100.0, 1.0, 0.05, 0.2);
        assert!((call - 10.450_583_572).abs() < 1e-6, "{call}");
        assert!((put - 5.573_526_022).abs() < 1e-6, "{put}");
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((norm_cdf(1.96) - 0.975_002_1).abs() < 1e-6);
    }

    #[test]
    fn put_call_parity_holds() {
        for &(s, k, t, v) in &[
            (26_000.0, 25_500.0, 6.0 / 365.0, 0.12),
            (26_000.0, 26_500.0, 1.0 / 365.0, 0.25),
            (24_000.0, 24_000.0, 0.5 / 365.0, 0.6),
        ] {
            let r = 0.055;
            let c = price(OptionType::Call, s, k, t, r, v);
            let p = price(OptionType::Put, s, k, t, r, v);
            let parity = s - k * (-r * t).exp();
            assert!((c - p - parity).abs() < 1e-6, "{c} {p} {parity}");
        }
    }

    #[test]
    fn expiry_gives_intrinsic() {
        assert_eq!(price(OptionType::Call, 105.0, 100.0, 0.0, 0.05, 0.2), 5.0);
        assert_eq!(price(OptionType::Put, 105.0, 100.0, 0.0, 0.05, 0.2), 0.0);
        assert_eq!(price(OptionType::Put, 95.0, 100.0, -1.0, 0.05, 0.2), 5.0);
    }
}
