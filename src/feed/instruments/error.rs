//! Why an instrument master (or freeze-limit file) was rejected.

use thiserror::Error;

use crate::feed::universe::column_text;

/// A rejected master or freeze-limit CSV: which file, line and column, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}{}: {reason}", column_text(.column))]
pub struct MasterError {
    /// The file (or the name given to in-memory text).
    pub file: String,
    /// 1-based line number (0 when the file could not be read at all).
    pub line: u64,
    /// 1-based column number and name, when one field is at fault.
    pub column: Option<(usize, String)>,
    /// What is wrong.
    pub reason: String,
}

impl MasterError {
    pub(super) fn new(
        file: &str,
        line: u64,
        column: Option<(usize, &str)>,
        reason: String,
    ) -> Self {
        MasterError {
            file: file.to_owned(),
            line,
            column: column.map(|(n, name)| (n, name.to_owned())),
            reason,
        }
    }
}
