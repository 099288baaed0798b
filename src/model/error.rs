use thiserror::Error;

/// Why a value could not be built or an arithmetic step could not be done.
///
/// Small and `Copy` so it can travel on the hot path without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ValueError {
    /// The result does not fit the fixed-point range; nothing wrapped.
    #[error("arithmetic overflow")]
    Overflow,
    /// The decimal text has more fractional digits than the type keeps (10^-8 for prices).
    #[error("more decimal places than the type can hold exactly")]
    TooPrecise,
    /// The text is not a decimal number.
    #[error("not a decimal number")]
    Malformed,
    /// A negative value where only zero or more makes sense (a quantity, a tick size).
    #[error("negative value")]
    Negative,
    /// A floating-point input that is NaN or infinite.
    #[error("not a finite number")]
    NotFinite,
}
