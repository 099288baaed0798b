//! The true range, shared by [`Atr`](super::Atr) and [`Adx`](super::Adx).

/// TA-Lib's true range of a bar given the previous close: the largest of `high − low`,
/// `|high − prev_close|` and `|low − prev_close|`, compared in that order.
#[inline]
pub(super) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut range = high - low;
    let up = (high - prev_close).abs();
    if up > range {
        range = up;
    }
    let down = (low - prev_close).abs();
    if down > range {
        range = down;
    }
    range
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_count() {
        assert_eq!(true_range(11.0, 10.0, 10.5), 1.0);
        assert_eq!(true_range(11.0, 10.0, 8.0), 3.0); // gap up
        assert_eq!(true_range(11.0, 10.0, 14.0), 4.0); // gap down
    }
}
