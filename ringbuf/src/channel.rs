//! Making a ring: one [`Producer`] and one [`Consumer`] over shared slots.

use crate::{buffer::Buffer, primitive::Arc, shared::Shared, CapacityError, Consumer, Producer};

/// Makes a ring of `capacity` slots and returns its two ends.
///
/// The slots are allocated here, once; nothing is allocated afterwards.
///
/// # Panics
/// If `capacity` is zero, not a power of two, or too large to allocate; use
/// [`try_channel`] when the capacity comes from configuration.
///
/// # Examples
/// ```
/// let (mut tx, mut rx) = tickpipe_ringbuf::channel::<u64>(1024);
/// assert_eq!(tx.capacity(), 1024);
/// tx.try_push(1).unwrap();
/// assert_eq!(rx.try_pop(), Ok(1));
/// ```
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    match try_channel(capacity) {
        Ok(ends) => ends,
        Err(e) => panic!("{e}"),
    }
}

/// Makes a ring of `capacity` slots, or says why that capacity cannot be built.
///
/// # Errors
/// [`CapacityError::Zero`], [`CapacityError::NotPowerOfTwo`], or
/// [`CapacityError::TooLarge`] when `capacity` slots of `T` would exceed `isize::MAX` bytes.
///
/// # Examples
/// ```
/// use tickpipe_ringbuf::{try_channel, CapacityError};
///
/// assert_eq!(try_channel::<u8>(0).unwrap_err(), CapacityError::Zero);
/// assert_eq!(try_channel::<u8>(100).unwrap_err(), CapacityError::NotPowerOfTwo(100));
/// assert!(try_channel::<u8>(128).is_ok());
/// ```
pub fn try_channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    if !capacity.is_power_of_two() {
        return Err(CapacityError::NotPowerOfTwo(capacity));
    }
    if Buffer::<T>::layout(capacity).is_none() {
        return Err(CapacityError::TooLarge(capacity));
    }
    let shared = Arc::new(Shared::new(capacity));
    Ok((Producer::new(Arc::clone(&shared)), Consumer::new(shared)))
}
