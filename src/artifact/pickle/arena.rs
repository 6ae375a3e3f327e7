//! The values of the symbolic pickle machine and the per-scan arena they live in.
//!
//! Values are small `Copy` handles. Strings, tuples, call results and dicts
//! live in the arena, so pushing, duplicating, memoizing and popping never
//! touch the allocator. Memory stays bounded by what is still reachable, as it
//! was with reference counting: when an arena has grown past twice what was
//! live at the last collection, the machine copies the values reachable from
//! its stack and memo into a fresh arena with [`Copier`] (between two opcodes,
//! where no value is held anywhere else).

use std::collections::HashMap;

pub(in crate::artifact) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Dict entries remembered per dict (enough for joblib wrapper state).
const MAX_DICT_ITEMS: usize = 64;

/// A run of entries in an arena (bytes of `text`, values of `items`).
/// Empty runs are always `{0, 0}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(in crate::artifact) struct Run {
    pub start: u32,
    pub len: u32,
}

impl Run {
    fn range(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }

    fn key(self) -> u64 {
        (u64::from(self.start) << 32) | u64::from(self.len)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::artifact) enum PyValue {
    /// Text in [`Arena::text`].
    Str(Run),
    /// Python ints and bools (True is 1).
    Int(i64),
    Nil,
    /// Index into the report's `globals`.
    Global(u32),
    /// Result of a call: index into [`Arena::objs`].
    Obj(u32),
    /// Items in [`Arena::items`]; immutable once made.
    Tuple(Run),
    /// Index into [`Arena::dicts`]. The only mutable container. Dicts are
    /// never stored inside other values (they become `Opaque` there), so the
    /// value graph has no cycles through them.
    Dict(u32),
    Opaque,
}

/// Result of a call (REDUCE, NEWOBJ, ...): what was called and with what.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(in crate::artifact) struct Obj {
    /// Index into the report's `globals`.
    pub class: Option<u32>,
    pub args: Option<Run>,
    /// BUILD state when it is a tuple. Only its scalar members count: read
    /// it through [`scalar_only`].
    pub state: Option<Run>,
}

/// Everything the values of one pickle stream point into.
#[derive(Default)]
pub(in crate::artifact) struct Arena {
    pub text: String,
    pub items: Vec<PyValue>,
    pub objs: Vec<Obj>,
    pub dicts: Vec<Vec<(PyValue, PyValue)>>,
    /// Entries in all dicts together.
    dict_items: usize,
}

impl Arena {
    pub(in crate::artifact) fn str(&self, s: Run) -> &str {
        self.text.get(s.range()).unwrap_or("")
    }

    pub(in crate::artifact) fn tuple(&self, s: Run) -> &[PyValue] {
        self.items.get(s.range()).unwrap_or(&[])
    }

    pub(in crate::artifact) fn obj(&self, i: u32) -> Option<&Obj> {
        self.objs.get(i as usize)
    }

    pub(in crate::artifact) fn dict(&self, i: u32) -> &[(PyValue, PyValue)] {
        self.dicts.get(i as usize).map_or(&[], Vec::as_slice)
    }

    /// A tuple of `values`, dicts inside it made opaque. `Opaque` if the
    /// arena's 32-bit indexes would overflow.
    pub(in crate::artifact) fn new_tuple(&mut self, values: &[PyValue]) -> PyValue {
        if values.is_empty() {
            return PyValue::Tuple(Run::default());
        }
        let start = self.items.len();
        let (Ok(s), Ok(l)) = (u32::try_from(start), u32::try_from(values.len())) else {
            return PyValue::Opaque;
        };
        if s.checked_add(l).is_none() {
            return PyValue::Opaque;
        }
        self.items.extend(values.iter().map(|v| nested(*v)));
        PyValue::Tuple(Run { start: s, len: l })
    }

    /// The result of calling `callable` with `args`.
    pub(in crate::artifact) fn new_obj(&mut self, callable: PyValue, args: PyValue) -> PyValue {
        let class = match callable {
            PyValue::Global(g) => Some(g),
            _ => None,
        };
        let args = match args {
            PyValue::Tuple(t) => Some(t),
            _ => None,
        };
        match u32::try_from(self.objs.len()) {
            Ok(i) => {
                self.objs.push(Obj { class, args, state: None });
                PyValue::Obj(i)
            }
            Err(_) => PyValue::Opaque,
        }
    }

    pub(in crate::artifact) fn new_dict(&mut self) -> PyValue {
        match u32::try_from(self.dicts.len()) {
            Ok(i) => {
                self.dicts.push(Vec::new());
                PyValue::Dict(i)
            }
            Err(_) => PyValue::Opaque,
        }
    }

    /// Add `items` (key, value, key, value, ...) to dict `d`, up to `MAX_DICT_ITEMS` entries.
    pub(in crate::artifact) fn insert_pairs(&mut self, d: u32, items: &[PyValue]) {
        let Some(dict) = self.dicts.get_mut(d as usize) else {
            return;
        };
        for pair in items.chunks_exact(2) {
            if dict.len() >= MAX_DICT_ITEMS {
                break;
            }
            dict.push((nested(pair[0]), nested(pair[1])));
            self.dict_items += 1;
        }
    }

    pub(in crate::artifact) fn clear(&mut self) {
        self.text.clear();
        self.items.clear();
        self.objs.clear();
        self.dicts.clear();
        self.dict_items = 0;
    }

    /// Rough size in value-sized units, for deciding when to collect.
    pub(in crate::artifact) fn weight(&self) -> usize {
        self.items.len() + self.objs.len() + self.dicts.len() + self.dict_items * 2 + self.text.len() / 16
    }
}

/// `s` when the value is a string, `"?"` otherwise.
pub(in crate::artifact) fn str_or_q(arena: &Arena, v: PyValue) -> &str {
    match v {
        PyValue::Str(s) => arena.str(s),
        _ => "?",
    }
}

/// Values stored inside containers: dicts become opaque (no cycles possible).
pub(in crate::artifact) fn nested(v: PyValue) -> PyValue {
    match v {
        PyValue::Dict(_) => PyValue::Opaque,
        other => other,
    }
}

pub(in crate::artifact) fn scalar_only(v: PyValue) -> PyValue {
    match v {
        PyValue::Str(_) | PyValue::Int(_) | PyValue::Nil => v,
        _ => PyValue::Opaque,
    }
}

/// Cheney-style copying of reachable values between arenas.
pub(in crate::artifact) struct Copier {
    old: Arena,
    new: Arena,
    obj_fwd: Vec<u32>,
    dict_fwd: Vec<u32>,
    /// Old tuple span → new start.
    spans: FastMap<u64, u32>,
    /// Old string span → new start.
    texts: FastMap<u64, u32>,
}

impl Copier {
    pub(in crate::artifact) fn new(old: Arena) -> Self {
        Copier {
            obj_fwd: vec![u32::MAX; old.objs.len()],
            dict_fwd: vec![u32::MAX; old.dicts.len()],
            old,
            new: Arena::default(),
            spans: FastMap::default(),
            texts: FastMap::default(),
        }
    }

    /// The new arena, once everything reachable from the copied roots is in it.
    pub(in crate::artifact) fn finish(mut self) -> Arena {
        self.scan();
        self.new
    }

    pub(in crate::artifact) fn copy(&mut self, v: PyValue) -> PyValue {
        match v {
            PyValue::Str(s) if s.len > 0 => {
                let new = &mut self.new;
                let old = &self.old;
                let start = *self.texts.entry(s.key()).or_insert_with(|| {
                    let at = new.text.len();
                    new.text.push_str(old.str(s));
                    // Live text is a subset of the old arena's, so it fits u32.
                    u32::try_from(at).unwrap_or(u32::MAX)
                });
                PyValue::Str(Run { start, len: s.len })
            }
            PyValue::Tuple(s) => PyValue::Tuple(self.copy_span(s)),
            PyValue::Obj(i) => match self.obj_fwd.get(i as usize).copied() {
                Some(u32::MAX) => {
                    let at = u32::try_from(self.new.objs.len()).unwrap_or(u32::MAX);
                    self.new.objs.push(self.old.obj(i).cloned().unwrap_or_default());
                    self.obj_fwd[i as usize] = at;
                    PyValue::Obj(at)
                }
                Some(at) => PyValue::Obj(at),
                None => PyValue::Opaque,
            },
            PyValue::Dict(i) => match self.dict_fwd.get(i as usize).copied() {
                Some(u32::MAX) => {
                    let at = u32::try_from(self.new.dicts.len()).unwrap_or(u32::MAX);
                    let entries = self.old.dict(i).to_vec();
                    self.new.dict_items += entries.len();
                    self.new.dicts.push(entries);
                    self.dict_fwd[i as usize] = at;
                    PyValue::Dict(at)
                }
                Some(at) => PyValue::Dict(at),
                None => PyValue::Opaque,
            },
            other => other,
        }
    }

    /// Copy a tuple's items (still pointing into the old arena; `scan` fixes them).
    fn copy_span(&mut self, s: Run) -> Run {
        if s.len == 0 {
            return Run::default();
        }
        let new = &mut self.new;
        let old = &self.old;
        let start = *self.spans.entry(s.key()).or_insert_with(|| {
            let at = new.items.len();
            new.items.extend_from_slice(old.tuple(s));
            u32::try_from(at).unwrap_or(u32::MAX)
        });
        Run { start, len: s.len }
    }

    /// Forward everything the copied values point to, until nothing new is copied.
    fn scan(&mut self) {
        let (mut items, mut objs, mut dicts) = (0usize, 0usize, 0usize);
        loop {
            let mut progress = false;
            while items < self.new.items.len() {
                let v = self.copy(self.new.items[items]);
                self.new.items[items] = v;
                items += 1;
                progress = true;
            }
            while objs < self.new.objs.len() {
                let o = self.new.objs[objs].clone();
                let args = o.args.map(|s| self.copy_span(s));
                let state = o.state.map(|s| self.copy_span(s));
                self.new.objs[objs].args = args;
                self.new.objs[objs].state = state;
                objs += 1;
                progress = true;
            }
            while dicts < self.new.dicts.len() {
                for j in 0..self.new.dicts[dicts].len() {
                    let (k, v) = self.new.dicts[dicts][j];
                    let pair = (self.copy(k), self.copy(v));
                    self.new.dicts[dicts][j] = pair;
                }
                dicts += 1;
                progress = true;
            }
            if !progress {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(arena: &mut Arena, text: &str) -> PyValue {
        let start = u32::try_from(arena.text.len()).unwrap_or(0);
        arena.text.push_str(text);
        PyValue::Str(Run { start, len: u32::try_from(text.len()).unwrap_or(0) })
    }

    #[test]
    fn dicts_never_nest_so_no_cycles() {
        // `d[k] = d` (SETITEM with the dict fetched back from the memo) must
        // not create a cycle: the nested copy becomes opaque.
        let mut a = Arena::default();
        let d = a.new_dict();
        let PyValue::Dict(di) = d else { panic!("dict") };
        let k = s(&mut a, "self");
        a.insert_pairs(di, &[k, d]);
        assert!(matches!(a.dict(di)[0].1, PyValue::Opaque));
        // Tuples holding a dict do not keep it either.
        let t = a.new_tuple(&[d, PyValue::Int(1)]);
        assert!(matches!(t, PyValue::Tuple(sp) if matches!(a.tuple(sp)[0], PyValue::Opaque)));
    }

    #[test]
    fn dict_capture_is_bounded() {
        let mut a = Arena::default();
        let PyValue::Dict(d) = a.new_dict() else { panic!("dict") };
        let items: Vec<PyValue> = (0..1000).map(PyValue::Int).collect();
        a.insert_pairs(d, &items);
        assert_eq!(a.dict(d).len(), MAX_DICT_ITEMS);
    }

    #[test]
    fn calls_remember_their_callable_and_args() {
        let mut a = Arena::default();
        let g = PyValue::Global(7);
        let f8 = s(&mut a, "f8");
        let args = a.new_tuple(&[f8]);
        let o = a.new_obj(g, args);
        assert!(matches!(o, PyValue::Obj(i)
            if a.obj(i).is_some_and(|o| o.class == Some(7) && o.args.is_some_and(|t| t.len == 1))));
        let opaque = a.new_obj(PyValue::Opaque, PyValue::Opaque);
        assert!(matches!(opaque, PyValue::Obj(i) if a.obj(i).is_some_and(|o| o.class.is_none() && o.args.is_none())));
        assert_eq!(str_or_q(&a, PyValue::Int(3)), "?");
        assert_eq!(str_or_q(&a, f8), "f8");
        assert!(matches!(scalar_only(g), PyValue::Opaque));
        assert!(matches!(scalar_only(PyValue::Nil), PyValue::Nil));
    }
}
