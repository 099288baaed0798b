//! Splitting one binary WebSocket message into its packets.
//!
//! ```text
//! offset  size  field
//! 0       2     N, the number of packets (u16 BE)
//! 2       2     L1, length of packet 1 (u16 BE)
//! 4       L1    packet 1
//! 4+L1    2     L2 ...                     (N times; no trailer)
//! ```
//!
//! A message shorter than 2 bytes is a heartbeat (Kite sends one byte every few seconds
//! when nothing else flows). Source: PROTOCOLS.md §1.3–1.4.

use super::DecodeError;

/// One binary message, classified.
#[derive(Debug, Clone)]
pub enum Message<'a> {
    /// A message shorter than 2 bytes: the server's keep-alive. It carries no data but
    /// proves the connection is alive.
    Heartbeat,
    /// A tick message: its packets, in wire order.
    Packets(Packets<'a>),
}

impl<'a> Message<'a> {
    /// Classifies `bytes`, the payload of one binary WebSocket message.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::feed::kite::Message;
    /// assert!(matches!(Message::parse(&[0]), Message::Heartbeat));
    /// let Message::Packets(mut p) = Message::parse(&[0, 1, 0, 2, 0xaa, 0xbb]) else { panic!() };
    /// assert_eq!(p.declared(), 1);
    /// let first = p.next().unwrap().unwrap();
    /// assert_eq!(first.bytes, &[0xaa, 0xbb]);
    /// assert!(first.is_complete());
    /// assert!(p.next().is_none());
    /// ```
    pub fn parse(bytes: &'a [u8]) -> Message<'a> {
        match bytes {
            [hi, lo, rest @ ..] => Message::Packets(Packets {
                rest,
                count: u16::from_be_bytes([*hi, *lo]),
                index: 0,
                failed: false,
            }),
            _ => Message::Heartbeat,
        }
    }
}

/// One packet as the message frames it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketSlice<'a> {
    /// The packet's position in the message, from 0.
    pub index: u16,
    /// The length its prefix declares.
    pub declared: u16,
    /// Its bytes: `declared` of them, or fewer when the message ends inside it (only the
    /// last packet can be cut).
    pub bytes: &'a [u8],
}

impl PacketSlice<'_> {
    /// True when all `declared` bytes are present.
    pub fn is_complete(&self) -> bool {
        self.bytes.len() == usize::from(self.declared)
    }

    /// The error describing a cut packet, `None` when it is complete.
    pub fn truncation(&self) -> Option<DecodeError> {
        (!self.is_complete()).then_some(DecodeError::Truncated {
            index: self.index,
            declared: self.declared,
            present: self.bytes.len() as u16,
        })
    }
}

/// The packets of a message, in wire order, without copying.
///
/// Yields a [`PacketSlice`] per declared packet. A packet the message cuts short is
/// yielded with the bytes that are there (so a caller can choose how to treat it) and
/// ends the iteration; a missing length prefix yields one
/// [`DecodeError::MissingLength`] and ends it. Bytes after the last packet are left in
/// [`trailing`](Self::trailing).
#[derive(Debug, Clone)]
pub struct Packets<'a> {
    rest: &'a [u8],
    count: u16,
    index: u16,
    failed: bool,
}

impl<'a> Packets<'a> {
    /// The packet count the message declares.
    pub fn declared(&self) -> u16 {
        self.count
    }

    /// The bytes after the last declared packet, once every packet has been read (empty
    /// before, and when the message is cut).
    pub fn trailing(&self) -> &'a [u8] {
        if self.index >= self.count && !self.failed {
            self.rest
        } else {
            &[]
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = Result<PacketSlice<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.index >= self.count {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let [hi, lo, rest @ ..] = self.rest else {
            self.failed = true;
            self.rest = &[];
            return Some(Err(DecodeError::MissingLength {
                index,
                count: self.count,
            }));
        };
        let declared = u16::from_be_bytes([*hi, *lo]);
        let (bytes, after) = rest.split_at(usize::from(declared).min(rest.len()));
        self.rest = after;
        let slice = PacketSlice {
            index,
            declared,
            bytes,
        };
        if !slice.is_complete() {
            // Nothing follows a cut packet; reading on would misread its bytes as the
            // next length prefix.
            self.failed = true;
        }
        Some(Ok(slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(bytes: &[u8]) -> Packets<'_> {
        match Message::parse(bytes) {
            Message::Packets(p) => p,
            Message::Heartbeat => panic!("heartbeat"),
        }
    }

    #[test]
    fn heartbeats_are_shorter_than_two_bytes() {
        assert!(matches!(Message::parse(&[]), Message::Heartbeat));
        assert!(matches!(Message::parse(&[0x00]), Message::Heartbeat));
        assert_eq!(packets(&[0, 0]).declared(), 0);
        assert!(packets(&[0, 0]).next().is_none());
    }

    #[test]
    fn splits_by_length_prefix_and_keeps_trailing_bytes() {
        let msg = [0, 2, 0, 1, 7, 0, 2, 8, 9, 0xee];
        let mut p = packets(&msg);
        assert_eq!(p.next().unwrap().unwrap().bytes, &[7]);
        assert_eq!(p.trailing(), &[] as &[u8]);
        assert_eq!(p.next().unwrap().unwrap().bytes, &[8, 9]);
        assert!(p.next().is_none());
        assert_eq!(p.trailing(), &[0xee]);
    }

    #[test]
    fn a_cut_packet_ends_the_message() {
        let msg = [0, 2, 0, 4, 1, 2];
        let mut p = packets(&msg);
        let cut = p.next().unwrap().unwrap();
        assert_eq!(cut.bytes, &[1, 2]);
        assert_eq!(
            cut.truncation(),
            Some(DecodeError::Truncated {
                index: 0,
                declared: 4,
                present: 2
            })
        );
        assert!(p.next().is_none());
    }

    #[test]
    fn a_missing_length_is_reported_once() {
        let msg = [0, 3, 0, 1, 5, 0];
        let mut p = packets(&msg);
        assert!(p.next().unwrap().is_ok());
        assert_eq!(
            p.next().unwrap(),
            Err(DecodeError::MissingLength { index: 1, count: 3 })
        );
        assert!(p.next().is_none());
        assert_eq!(p.trailing(), &[] as &[u8]);
    }
}
