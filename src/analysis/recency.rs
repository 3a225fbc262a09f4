//! A slab of flow states ordered by last activity, so the analyzer can retire the flow that has
//! been quiet longest in O(1) per packet.
//!
//! Contract: every live entry has a stable id (its slot; a slot is reused only after its entry
//! is removed) and sits on exactly one of `N` lists. [`Recency::touch`] moves an entry to the
//! back of a list (possibly another one), so each list runs from the entry touched least
//! recently ([`Recency::front`]) to the one touched last. The lists are intrusive (slot numbers
//! kept beside each value): no allocation per touch, and memory is bounded by the most entries
//! ever live at once.

const NIL: u32 = u32::MAX;

struct Slot<T> {
    value: Option<T>,
    prev: u32,
    next: u32,
    list: u8,
}

pub(crate) struct Recency<T, const N: usize> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    heads: [u32; N],
    tails: [u32; N],
    lens: [usize; N],
}

impl<T, const N: usize> Default for Recency<T, N> {
    fn default() -> Self {
        Recency {
            slots: Vec::new(),
            free: Vec::new(),
            heads: [NIL; N],
            tails: [NIL; N],
            lens: [0; N],
        }
    }
}

impl<T, const N: usize> Recency<T, N> {
    /// Adds `value` at the back of `list` and returns its id.
    pub(crate) fn insert(&mut self, value: T, list: usize) -> u32 {
        let slot = Slot {
            value: Some(value),
            prev: NIL,
            next: NIL,
            list: list as u8,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.link_back(id, list);
        id
    }

    pub(crate) fn get(&self, id: u32) -> Option<&T> {
        self.slots.get(id as usize)?.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.slots.get_mut(id as usize)?.value.as_mut()
    }

    /// Moves a live entry to the back of `list`.
    pub(crate) fn touch(&mut self, id: u32, list: usize) {
        let Some(s) = self.slots.get(id as usize) else {
            return;
        };
        if s.value.is_none() || (s.list as usize == list && self.tails[list] == id) {
            return;
        }
        self.unlink(id);
        self.link_back(id, list);
    }

    /// The entry of `list` touched least recently.
    pub(crate) fn front(&self, list: usize) -> Option<u32> {
        let h = self.heads[list];
        (h != NIL).then_some(h)
    }

    pub(crate) fn remove(&mut self, id: u32) -> Option<T> {
        self.slots.get(id as usize)?.value.as_ref()?;
        self.unlink(id);
        self.free.push(id);
        self.slots[id as usize].value.take()
    }

    /// Live entries on `list`.
    pub(crate) fn len(&self, list: usize) -> usize {
        self.lens[list]
    }

    /// Removes every live entry, one at a time in order of `key`.
    pub(crate) fn drain_by_key(&mut self, key: impl Fn(&T) -> u32) -> impl Iterator<Item = T> + '_ {
        let mut order: Vec<(u32, u32)> = (self.slots.iter().enumerate())
            .filter_map(|(id, s)| Some((key(s.value.as_ref()?), id as u32)))
            .collect();
        order.sort_unstable();
        order.into_iter().filter_map(|(_, id)| self.remove(id))
    }

    /// Every live entry, in no particular order.
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().filter_map(|s| s.value)
    }

    fn unlink(&mut self, id: u32) {
        let Slot {
            prev, next, list, ..
        } = self.slots[id as usize];
        let list = list as usize;
        match prev {
            NIL => self.heads[list] = next,
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.tails[list] = prev,
            n => self.slots[n as usize].prev = prev,
        }
        self.lens[list] -= 1;
    }

    fn link_back(&mut self, id: u32, list: usize) {
        let tail = self.tails[list];
        let s = &mut self.slots[id as usize];
        s.prev = tail;
        s.next = NIL;
        s.list = list as u8;
        match tail {
            NIL => self.heads[list] = id,
            t => self.slots[t as usize].next = id,
        }
        self.tails[list] = id;
        self.lens[list] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order<const N: usize>(r: &Recency<char, N>, list: usize) -> String {
        let mut out = String::new();
        let mut id = r.heads[list];
        while id != NIL {
            out.push(*r.get(id).unwrap());
            id = r.slots[id as usize].next;
        }
        out
    }

    #[test]
    fn touch_moves_to_the_back_and_between_lists() {
        let mut r: Recency<char, 2> = Recency::default();
        let a = r.insert('a', 0);
        let b = r.insert('b', 0);
        let c = r.insert('c', 0);
        assert_eq!(order(&r, 0), "abc");
        r.touch(a, 0);
        assert_eq!(order(&r, 0), "bca");
        r.touch(c, 1);
        assert_eq!((order(&r, 0).as_str(), order(&r, 1).as_str()), ("ba", "c"));
        assert_eq!((r.len(0), r.len(1)), (2, 1));
        assert_eq!(r.front(0), Some(b));
        assert_eq!(r.remove(b), Some('b'));
        assert_eq!(r.remove(b), None, "a removed id is gone");
        r.touch(b, 1);
        assert_eq!(order(&r, 1), "c", "touching a removed id does nothing");
        let d = r.insert('d', 1);
        assert_eq!(d, b, "the freed slot is reused");
        assert_eq!((order(&r, 0).as_str(), order(&r, 1).as_str()), ("a", "cd"));
        let drained: String = r.drain_by_key(|&c| 'z' as u32 - c as u32).collect();
        assert_eq!(drained, "dca");
        assert_eq!((r.len(0), r.len(1), r.front(1)), (0, 0, None));
    }
}
