//! Why a binary message, or one packet of it, could not be decoded.

use std::fmt;

/// What is wrong with a binary message or one of its packets.
///
/// A small `Copy` value so the hot path can count it without allocating. Each variant
/// says what was skipped: a bad packet never shifts the reading of the packets after it,
/// because the split into packets trusts only the length prefixes, and a decoder stops
/// at the first prefix it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The message's packet count promises more packets than it holds: the length
    /// prefix of packet `index` (from 0) is missing or cut. The rest of the message is
    /// skipped; the packets before it were complete. Usually a truncated capture.
    MissingLength {
        /// The packet whose length prefix is missing.
        index: u16,
        /// The packet count the message declares.
        count: u16,
    },
    /// The message ends inside packet `index`: its prefix declares `declared` bytes but
    /// only `present` follow. The packet is skipped (reading a shorter packet by its
    /// actual length, as the official client does, could take a quote for an index
    /// packet).
    Truncated {
        /// The packet that is cut.
        index: u16,
        /// Bytes its length prefix declares.
        declared: u16,
        /// Bytes the message still holds.
        present: u16,
    },
    /// A packet of fewer than 4 bytes: not even the instrument token is there.
    TooShort {
        /// The packet's length.
        len: u16,
    },
    /// A packet whose length is none of Kite's five layouts (8, 28, 32, 44, 184). It is
    /// skipped, as the official clients skip it; a new layout from Kite shows up here.
    UnknownLength {
        /// The packet's length (`u16::MAX` for a longer slice than framing allows).
        len: u16,
    },
    /// Bytes follow the last packet the count announces. The packets are used; the
    /// extra bytes are ignored, as the official client ignores them.
    TrailingBytes {
        /// How many bytes were ignored (`u16::MAX` for that many or more).
        extra: u16,
    },
}

impl DecodeError {
    /// How many kinds there are (for per-kind counters).
    pub const KINDS: usize = 5;

    /// The kind's names, in [`kind_index`](Self::kind_index) order.
    pub const KIND_NAMES: [&'static str; Self::KINDS] = [
        "missing_length",
        "truncated",
        "too_short",
        "unknown_length",
        "trailing_bytes",
    ];

    /// A dense index of the variant, for counting by kind.
    pub const fn kind_index(self) -> usize {
        match self {
            DecodeError::MissingLength { .. } => 0,
            DecodeError::Truncated { .. } => 1,
            DecodeError::TooShort { .. } => 2,
            DecodeError::UnknownLength { .. } => 3,
            DecodeError::TrailingBytes { .. } => 4,
        }
    }

    /// The variant's name, e.g. `truncated`.
    pub const fn kind_name(self) -> &'static str {
        Self::KIND_NAMES[self.kind_index()]
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::MissingLength { index, count } => write!(
                f,
                "message ends before the length of packet {index} (it declares {count} packets)"
            ),
            DecodeError::Truncated {
                index,
                declared,
                present,
            } => write!(
                f,
                "packet {index} is truncated: {present} of {declared} bytes"
            ),
            DecodeError::TooShort { len } => {
                write!(
                    f,
                    "packet of {len} bytes is too short for an instrument token"
                )
            }
            DecodeError::UnknownLength { len } => write!(f, "packet of unknown length {len}"),
            DecodeError::TrailingBytes { extra } => {
                write!(f, "{extra} bytes after the last packet")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
