//! The progress bar of a `backtest --data` run on standard error. indicatif draws it
//! only when standard error is a terminal, so logs, pipes and tests see nothing of it;
//! it is moved every few thousand rows, so it costs the run nothing measurable.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::backtest::{BarRows, BarSource, DataError, OhlcvBar};

/// Rows between two moves of the bar.
const ROWS_PER_UPDATE: u32 = 16_384;

/// A [`BarSource`] that moves a progress bar as it is read.
pub(super) struct Progressed<'a> {
    rows: &'a mut BarSource,
    bar: ProgressBar,
    until_update: u32,
}

impl<'a> Progressed<'a> {
    /// Wraps `rows`, opened from `path`.
    pub(super) fn new(rows: &'a mut BarSource, path: &Path) -> Progressed<'a> {
        let csv = matches!(rows, BarSource::Csv(_));
        let template = if csv {
            "{spinner} {elapsed_precise} [{bar:40}] {bytes}/{total_bytes} ({eta} left)"
        } else {
            "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} candles ({eta} left)"
        };
        let bar = ProgressBar::new(rows.size(path));
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progressed {
            rows,
            bar,
            until_update: 0,
        }
    }

    /// Clears the bar (the run's summary line follows).
    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl BarRows for Progressed<'_> {
    #[inline]
    fn next_row(&mut self) -> Result<Option<&OhlcvBar>, DataError> {
        if self.until_update == 0 {
            self.until_update = ROWS_PER_UPDATE;
            self.bar.set_position(self.rows.read_so_far());
        }
        self.until_update -= 1;
        self.rows.next_row()
    }
}
