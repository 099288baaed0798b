//! A fixed-capacity slab with a free list, keyed by generation-checked keys.
//!
//! The risk stage's in-flight table and the order stage's book both hold records of
//! orders that may stay unanswered for a long time. A table indexed `id % capacity`
//! jams as soon as one old record sits in the slot a new id maps to; a slab hands out
//! whichever slot is free, so one stuck order costs exactly one slot. The key names the
//! slot *and* the insert that filled it, so a key kept after its record left (a late
//! report about a finished order) never reaches the record that reuses the slot.

/// Bits of a [`Key`] that hold the slot: a slab has at most `2^SLOT_BITS` slots.
pub const SLOT_BITS: u32 = 20;

/// Most slots a [`Slab`] can have (`2^SLOT_BITS`, about a million).
pub const MAX_SLOTS: usize = 1 << SLOT_BITS;

const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// Marks the end of the free list.
const NIL: u32 = u32::MAX;

/// The name of one record in a [`Slab`]: its slot and the generation of the insert that
/// filled it, packed in a `u64` as `generation << SLOT_BITS | slot`.
///
/// Generations are the slab's insert sequence (1, 2, 3, … over its whole life, not per
/// slot), so keys of one slab are unique, increase with every insert, and never repeat:
/// that makes a key usable as a readable, increasing message id (the risk stage's
/// [`IntentId`](crate::model::IntentId) is one).
///
/// # Examples
/// ```
/// use tickpipe::runtime::Key;
/// let key = Key::new(7, 3);
/// assert_eq!((key.generation(), key.slot()), (7, 3));
/// assert_eq!(Key::from_u64(key.to_u64()), key);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u64);

impl Key {
    /// The key of `slot` filled by insert number `generation`.
    ///
    /// # Panics
    /// In debug builds, when `slot` does not fit [`SLOT_BITS`] or `generation` does not
    /// fit the remaining bits.
    pub const fn new(generation: u64, slot: u32) -> Key {
        debug_assert!((slot as u64) <= SLOT_MASK);
        debug_assert!(generation < (1 << (64 - SLOT_BITS)));
        Key(generation << SLOT_BITS | slot as u64)
    }

    /// The key packed in `raw` (as [`Key::to_u64`] made it).
    pub const fn from_u64(raw: u64) -> Key {
        Key(raw)
    }

    /// The packed form, for ids carried in messages.
    pub const fn to_u64(self) -> u64 {
        self.0
    }

    /// The slot.
    pub const fn slot(self) -> u32 {
        (self.0 & SLOT_MASK) as u32
    }

    /// The insert sequence number that filled the slot (from 1).
    pub const fn generation(self) -> u64 {
        self.0 >> SLOT_BITS
    }
}

#[derive(Debug, Clone)]
struct Entry<T> {
    /// Generation of the current occupant (of the last one, while free).
    generation: u64,
    value: Option<T>,
    /// Free-list neighbours while free ([`NIL`] at the ends).
    prev_free: u32,
    next_free: u32,
}

/// Up to `capacity` records of `T`, each under its own [`Key`].
///
/// - Every operation is O(1): [`Slab::insert`] takes the head of the free list,
///   [`Slab::remove`] pushes the slot back, lookups index the slot and compare the
///   generation.
/// - All memory is allocated in [`Slab::with_capacity`]; nothing allocates afterwards,
///   so stages use it on the hot path.
/// - A full slab refuses and hands the value back; [`Slab::insert_keeping`] refuses
///   earlier, keeping a reserve of free slots for inserts that must not fail (exits).
/// - [`Slab::insert_at`] places a record under a key another slab issued, so a stage
///   can mirror a table upstream of it and look records up by the ids in messages.
///
/// # Examples
/// ```
/// use tickpipe::runtime::Slab;
/// let mut slab = Slab::with_capacity(2);
/// let a = slab.insert("a").unwrap();
/// let b = slab.insert("b").unwrap();
/// assert_eq!(slab.insert("c"), Err("c"), "full");
/// assert_eq!(slab.remove(a), Some("a"));
/// let c = slab.insert("c").unwrap();
/// assert_eq!(c.slot(), a.slot(), "the slot is reused");
/// assert_eq!(slab.get(a), None, "the old key does not see the new record");
/// assert_eq!(slab.get(b), Some(&"b"));
/// assert!(c > b, "keys increase");
/// ```
#[derive(Debug, Clone)]
pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    free_head: u32,
    free: usize,
    next_generation: u64,
}

impl<T> Slab<T> {
    /// A slab of `capacity` slots (at least one, at most [`MAX_SLOTS`]; clamped).
    pub fn with_capacity(capacity: usize) -> Slab<T> {
        let capacity = capacity.clamp(1, MAX_SLOTS);
        let entries = (0..capacity)
            .map(|i| Entry {
                generation: 0,
                value: None,
                prev_free: if i == 0 { NIL } else { i as u32 - 1 },
                next_free: if i + 1 == capacity { NIL } else { i as u32 + 1 },
            })
            .collect();
        Slab {
            entries,
            free_head: 0,
            free: capacity,
            next_generation: 1,
        }
    }

    /// Slots in all.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.entries.len() - self.free
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.free == self.entries.len()
    }

    /// Free slots.
    pub fn free_slots(&self) -> usize {
        self.free
    }

    /// The key the next [`Slab::insert`] will return, if there is room.
    pub fn next_key(&self) -> Option<Key> {
        (self.free_head != NIL).then(|| Key::new(self.next_generation, self.free_head))
    }

    /// Stores `value` in a free slot.
    ///
    /// # Errors
    /// The value back when every slot is taken.
    pub fn insert(&mut self, value: T) -> Result<Key, T> {
        self.insert_keeping(value, 0)
    }

    /// Stores `value` only if more than `reserve` slots are free, so the last `reserve`
    /// slots stay for inserts that pass a smaller reserve.
    ///
    /// # Errors
    /// The value back when `reserve` or fewer slots are free.
    pub fn insert_keeping(&mut self, value: T, reserve: usize) -> Result<Key, T> {
        if self.free <= reserve || self.free_head == NIL {
            return Err(value);
        }
        let slot = self.free_head;
        let key = Key::new(self.next_generation, slot);
        self.fill(key, value);
        Ok(key)
    }

    /// Stores `value` under `key`, a key another slab issued (see the type's docs).
    ///
    /// # Errors
    /// The value back when the key's slot is beyond this slab or holds a record.
    pub fn insert_at(&mut self, key: Key, value: T) -> Result<(), T> {
        match self.entries.get(key.slot() as usize) {
            Some(entry) if entry.value.is_none() => {
                self.fill(key, value);
                Ok(())
            }
            _ => Err(value),
        }
    }

    /// Unlinks the free `key.slot()` and fills it.
    fn fill(&mut self, key: Key, value: T) {
        let slot = key.slot();
        let (prev, next) = {
            let e = &self.entries[slot as usize];
            debug_assert!(e.value.is_none());
            (e.prev_free, e.next_free)
        };
        if prev == NIL {
            self.free_head = next;
        } else {
            self.entries[prev as usize].next_free = next;
        }
        if next != NIL {
            self.entries[next as usize].prev_free = prev;
        }
        let entry = &mut self.entries[slot as usize];
        entry.generation = key.generation();
        entry.value = Some(value);
        entry.prev_free = NIL;
        entry.next_free = NIL;
        self.free -= 1;
        self.next_generation = self.next_generation.max(key.generation() + 1);
    }

    /// The record under `key`, if it is still there.
    pub fn get(&self, key: Key) -> Option<&T> {
        let entry = self.entries.get(key.slot() as usize)?;
        if entry.generation != key.generation() {
            return None;
        }
        entry.value.as_ref()
    }

    /// The record under `key`, if it is still there.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let entry = self.entries.get_mut(key.slot() as usize)?;
        if entry.generation != key.generation() {
            return None;
        }
        entry.value.as_mut()
    }

    /// Takes the record under `key` out, freeing its slot.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = key.slot();
        let entry = self.entries.get_mut(slot as usize)?;
        if entry.generation != key.generation() {
            return None;
        }
        let value = entry.value.take()?;
        entry.next_free = self.free_head;
        entry.prev_free = NIL;
        if self.free_head != NIL {
            self.entries[self.free_head as usize].prev_free = slot;
        }
        self.free_head = slot;
        self.free += 1;
        Some(value)
    }

    /// Every record with its key, in slot order (O(capacity); not for the hot path).
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.entries.iter().enumerate().filter_map(|(slot, e)| {
            e.value
                .as_ref()
                .map(|v| (Key::new(e.generation, slot as u32), v))
        })
    }

    /// Every record with its key, in slot order, mutably (O(capacity)).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.entries.iter_mut().enumerate().filter_map(|(slot, e)| {
            let generation = e.generation;
            e.value
                .as_mut()
                .map(|v| (Key::new(generation, slot as u32), v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_increase_and_old_keys_go_stale() {
        let mut slab = Slab::with_capacity(3);
        let keys: Vec<Key> = (0..3).map(|i| slab.insert(i).unwrap()).collect();
        assert_eq!(keys.iter().map(|k| k.slot()).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            keys.iter().map(|k| k.generation()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(slab.insert(9), Err(9));
        assert_eq!(slab.remove(keys[1]), Some(1));
        assert_eq!(slab.remove(keys[1]), None, "removed once");
        assert_eq!(slab.next_key(), Some(Key::new(4, 1)));
        let k = slab.insert(4).unwrap();
        assert_eq!(k, Key::new(4, 1));
        assert_eq!(slab.get(keys[1]), None);
        assert_eq!(slab.get_mut(k), Some(&mut 4));
        assert_eq!(slab.len(), 3);
        assert_eq!(slab.get(Key::new(4, 77)), None, "beyond the slab");
    }

    #[test]
    fn one_stuck_record_never_jams_the_slab() {
        let mut slab = Slab::with_capacity(4);
        let stuck = slab.insert(u64::MAX).unwrap();
        for i in 0..10_000_u64 {
            let k = slab.insert(i).unwrap();
            assert_eq!(slab.remove(k), Some(i));
        }
        assert_eq!(slab.get(stuck), Some(&u64::MAX));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn a_reserve_is_kept_for_privileged_inserts() {
        let mut slab = Slab::with_capacity(4);
        slab.insert_keeping('a', 2).unwrap();
        slab.insert_keeping('b', 2).unwrap();
        assert_eq!(
            slab.insert_keeping('c', 2),
            Err('c'),
            "2 free = the reserve"
        );
        slab.insert_keeping('d', 0).unwrap();
        slab.insert('e').unwrap();
        assert_eq!(slab.free_slots(), 0);
        assert_eq!(slab.next_key(), None);
    }

    #[test]
    fn insert_at_mirrors_keys_issued_elsewhere() {
        let mut upstream = Slab::with_capacity(4);
        let mut mirror = Slab::with_capacity(4);
        let a = upstream.insert(()).unwrap();
        let b = upstream.insert(()).unwrap();
        mirror.insert_at(b, "b").unwrap();
        mirror.insert_at(a, "a").unwrap();
        assert_eq!(mirror.insert_at(a, "again"), Err("again"), "slot taken");
        assert_eq!(mirror.insert_at(Key::new(9, 4), "out"), Err("out"));
        assert_eq!(mirror.get(a), Some(&"a"));
        assert_eq!(mirror.remove(a), Some("a"));
        // The free list survives slots taken out of order.
        let (x, y, z) = (
            mirror.insert("x").unwrap(),
            mirror.insert("y").unwrap(),
            mirror.insert("z").unwrap(),
        );
        let mut slots = [x.slot(), y.slot(), z.slot(), b.slot()];
        slots.sort_unstable();
        assert_eq!(slots, [0, 1, 2, 3]);
        assert!(
            x.generation() > b.generation(),
            "generations move past mirrored keys"
        );
        assert_eq!(mirror.iter().count(), 4);
    }
}
