//! Plain-text tables with aligned columns: text to the left, numbers to the right.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text (symbols, names, states).
    Left,
    /// Numbers, money, prices, durations: their last digits line up.
    Right,
}

/// A table built row by row and printed with every column as wide as its widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headings and alignments.
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells print empty and extra cells are dropped, so a short
    /// row from an older server cannot break the layout.
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The table as lines, each indented by `indent` spaces, columns two spaces apart,
    /// without trailing spaces or a final newline.
    pub fn render(&self, indent: usize) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let header: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        let mut lines = Vec::with_capacity(self.rows.len() + 1);
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (i, (cell, (&w, (_, align)))) in
                row.iter().zip(widths.iter().zip(&self.columns)).enumerate()
            {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(w - width(cell));
                match align {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines.join("\n")
    }
}

/// Display width in characters (`₹` and `µ` are one column each).
fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_align_right_and_text_left() {
        let mut t = Table::new(&[("SYMBOL", Align::Left), ("NET", Align::Right)]);
        t.push(vec!["SBIN".into(), "150".into()]);
        t.push(vec!["RELIANCE".into(), "-5".into()]);
        assert_eq!(
            t.render(2),
            "  SYMBOL    NET\n  SBIN      150\n  RELIANCE   -5"
        );
    }

    #[test]
    fn rupee_signs_count_as_one_column() {
        let mut t = Table::new(&[("P&L", Align::Right), ("X", Align::Left)]);
        t.push(vec!["+₹1.00".into(), "a".into()]);
        t.push(vec!["-₹10.00".into()]);
        assert_eq!(t.render(0), "    P&L  X\n +₹1.00  a\n-₹10.00");
    }
}
