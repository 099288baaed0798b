//! Figures for people to read: a fraction as a percentage or a ratio to fixed places,
//! and a dash where the figure is undefined (no trades, no losing day), so a table
//! never shows `NaN` or `inf`.

/// A fraction as a percentage to two places (`0.1234` is `12.34 %`), or `–`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.2} %", fraction * 100.0)
    } else {
        "–".to_owned()
    }
}

/// `x` to `places` decimal places, or `–`.
pub fn decimal(x: f64, places: usize) -> String {
    if x.is_finite() {
        format!("{x:.places$}")
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_figures_are_a_dash() {
        assert_eq!(percent(0.1234), "12.34 %");
        assert_eq!(percent(f64::NAN), "–");
        assert_eq!(decimal(1.23456, 3), "1.235");
        assert_eq!(decimal(f64::INFINITY, 2), "–");
    }
}
