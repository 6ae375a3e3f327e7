//! State of the symbolic pickle machine: the stack with its MARK levels, the
//! memo and the table of globals. The values themselves live in the arena
//! ([`crate::artifact::pickle::arena`]), which this module garbage-collects between opcodes.

use std::cell::Cell;

use crate::artifact::ArtifactLimits;
use crate::artifact::document::{GlobalRef, PickleReport};
use crate::artifact::pickle::arena::Copier;
pub(in crate::artifact) use crate::artifact::pickle::arena::{Arena, Obj, PyValue, Run, scalar_only, str_or_q};
use crate::artifact::pickle::classify::{Classification, classify};

pub(in crate::artifact) use crate::artifact::pickle::arena::FastMap;

/// Deepest stack (all MARK levels together) we simulate. Real pickles stay
/// shallow: containers are filled in batches of 1000 by APPENDS/SETITEMS.
pub(in crate::artifact) const MAX_STACK: usize = 1 << 22;
/// Distinct globals recorded per stream before the scan gives up.
const MAX_GLOBALS: usize = 65_536;
/// Total bytes of strings retained as symbolic values; past it, new strings
/// become opaque (so a STACK_GLOBAL on them is reported unresolvable).
const STRING_BUDGET: u64 = 256 << 20;
/// Memo keys below this live in a vector indexed by key (pickles number their
/// memo entries 0, 1, 2, ...); larger ones in a hash map.
const DENSE_MEMO: u64 = 1 << 16;
/// Arena weight below which garbage is never collected.
pub(in crate::artifact) const GC_MIN: usize = 1 << 20;

/// The memo: key → value, with the number of distinct keys.
#[derive(Default)]
pub(in crate::artifact) struct Memo {
    dense: Vec<Option<PyValue>>,
    sparse: FastMap<u64, PyValue>,
    len: usize,
}

impl Memo {
    pub(in crate::artifact) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(in crate::artifact) fn get(&self, key: u64) -> Option<PyValue> {
        if key < DENSE_MEMO { self.dense.get(key as usize).copied().flatten() } else { self.sparse.get(&key).copied() }
    }

    pub(in crate::artifact) fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    #[inline]
    pub(in crate::artifact) fn insert(&mut self, key: u64, v: PyValue) {
        let fresh = if key < DENSE_MEMO {
            let i = key as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, None);
            }
            self.dense[i].replace(v).is_none()
        } else {
            self.sparse.insert(key, v).is_none()
        };
        if fresh {
            self.len += 1;
        }
    }

    pub(in crate::artifact) fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
        self.len = 0;
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut PyValue> {
        self.dense.iter_mut().flatten().chain(self.sparse.values_mut())
    }
}

/// Why a global cannot be classified by its name.
#[derive(Clone, Copy)]
pub(in crate::artifact) enum Unresolved {
    /// EXT1/2/4 with this code.
    Extension(i32),
    /// STACK_GLOBAL on something other than two string constants.
    StackGlobal,
}

/// Globals seen in the stream, by (module, name).
#[derive(Default)]
pub(in crate::artifact) struct Globals {
    /// Index of the report's `globals`, built once there are more than
    /// `LINEAR_GLOBALS` (fewer are searched directly). Key: module length
    /// (8 bytes LE), module, name. Value: index in the report's `globals`.
    seen: FastMap<Box<[u8]>, u32>,
    key: Vec<u8>,
}

/// Distinct globals searched linearly before `Globals` builds its index.
const LINEAR_GLOBALS: usize = 16;

impl Globals {
    /// Put the index key of `module.name` in `self.key`.
    fn set_key(&mut self, module: &str, name: &str) {
        self.key.clear();
        self.key.extend_from_slice(&(module.len() as u64).to_le_bytes());
        self.key.extend_from_slice(module.as_bytes());
        self.key.extend_from_slice(name.as_bytes());
    }

    fn find(&mut self, report: &PickleReport, module: &str, name: &str) -> Option<u32> {
        let known = &report.globals;
        if known.len() <= LINEAR_GLOBALS {
            let i = known.iter().position(|g| g.module == module && g.name == name)?;
            return u32::try_from(i).ok();
        }
        if self.seen.is_empty() {
            for (i, g) in known.iter().enumerate() {
                self.set_key(&g.module, &g.name);
                self.seen.insert(self.key.as_slice().into(), u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        self.set_key(module, name);
        self.seen.get(self.key.as_slice()).copied()
    }

    /// The index of `module.name` in `report.globals`, recording it (with its
    /// classification) the first time it is seen.
    pub(in crate::artifact) fn record(
        &mut self,
        report: &mut PickleReport,
        module: &str,
        name: &str,
        off: u64,
        opcode: &'static str,
        unresolved: Option<Unresolved>,
    ) -> Result<u32, String> {
        if let Some(i) = self.find(report, module, name) {
            return Ok(i);
        }
        if report.globals.len() >= MAX_GLOBALS {
            return Err(format!("limit at offset {off}: more than {MAX_GLOBALS} distinct globals"));
        }
        let (classification, reason) = match unresolved {
            Some(Unresolved::Extension(code)) => (
                Classification::Dangerous,
                Some(format!("extension registry code {code} cannot be resolved statically")),
            ),
            Some(Unresolved::StackGlobal) => (
                Classification::Dangerous,
                Some(
                    "STACK_GLOBAL operand is not a string constant (computed at load time or missing from the memo)"
                        .to_string(),
                ),
            ),
            None => classify(module, name),
        };
        // MAX_GLOBALS < u32::MAX, so the index fits.
        let i = u32::try_from(report.globals.len()).unwrap_or(u32::MAX);
        if !self.seen.is_empty() {
            self.set_key(module, name);
            self.seen.insert(self.key.as_slice().into(), i);
        }
        report.globals.push(GlobalRef {
            module: module.to_string(),
            name: name.to_string(),
            classification,
            reason,
            offset: off,
            opcode,
        });
        Ok(i)
    }

    fn clear(&mut self) {
        self.seen.clear();
        self.key.clear();
    }
}

/// The stack and memo of a pickle set aside while a joblib object-array
/// pickle nested inside it is scanned.
pub(in crate::artifact) struct Saved {
    pub stack: Vec<PyValue>,
    pub marks: Vec<usize>,
    pub memo: Memo,
}

/// The machine: one stack of symbolic values with MARK levels kept as the
/// stack heights where they were set (the values above the last one are the
/// "current" stack, Python-style), plus the memo, the arenas and the globals.
pub(in crate::artifact) struct Machine<'l> {
    pub(in crate::artifact) limits: &'l ArtifactLimits,
    pub(in crate::artifact) stack: Vec<PyValue>,
    pub(in crate::artifact) marks: Vec<usize>,
    pub(in crate::artifact) memo: Memo,
    pub(in crate::artifact) arena: Arena,
    pub(in crate::artifact) globals: Globals,
    pub(in crate::artifact) retained: u64,
    /// Depth of joblib object-array pickles being scanned.
    pub(in crate::artifact) nesting: usize,
    /// Plain-unpickler reading: joblib arrays are not stepped over.
    pub(in crate::artifact) plain: bool,
    /// Byte strings up to this length are kept (for nested pickles).
    pub(in crate::artifact) keep_bytes: usize,
    /// Outer pickles' stacks and memos while nested ones are scanned.
    pub(in crate::artifact) saved: Vec<Saved>,
    /// Arena weight at which garbage is next collected.
    pub(in crate::artifact) gc_at: usize,
    /// Arena weight below which garbage is never collected (`GC_MIN`; tests lower it).
    pub(in crate::artifact) gc_min: usize,
    /// Reused buffer for opcode arguments.
    pub(in crate::artifact) scratch: Vec<u8>,
    /// Reused buffer for decoded STRING arguments and EXT names.
    pub(in crate::artifact) decoded: Vec<u8>,
    pub(in crate::artifact) report: PickleReport,
}

/// The machine's growable parts, kept per thread between scans so that
/// scanning many small pickles does not allocate them again every time.
#[derive(Default)]
struct Buffers {
    stack: Vec<PyValue>,
    marks: Vec<usize>,
    memo: Memo,
    arena: Arena,
    globals: Globals,
    scratch: Vec<u8>,
    decoded: Vec<u8>,
}

/// Buffers larger than this (in elements or bytes) are freed after a scan
/// instead of being kept for the next one.
const KEEP_CAPACITY: usize = 1 << 16;

thread_local! {
    static SPARE: Cell<Option<Buffers>> = const { Cell::new(None) };
}

impl Buffers {
    /// Empty the buffers; false if any grew too large to be worth keeping.
    fn reset(&mut self) -> bool {
        let small = self.stack.capacity() <= KEEP_CAPACITY
            && self.marks.capacity() <= KEEP_CAPACITY
            && self.memo.dense.capacity() <= KEEP_CAPACITY
            && self.memo.sparse.capacity() <= KEEP_CAPACITY
            && self.arena.text.capacity() <= KEEP_CAPACITY
            && self.arena.items.capacity() <= KEEP_CAPACITY
            && self.arena.objs.capacity() <= KEEP_CAPACITY
            && self.arena.dicts.capacity() <= KEEP_CAPACITY
            && self.globals.seen.capacity() <= KEEP_CAPACITY
            && self.scratch.capacity() <= KEEP_CAPACITY
            && self.decoded.capacity() <= KEEP_CAPACITY;
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        self.arena.clear();
        self.globals.clear();
        self.scratch.clear();
        self.decoded.clear();
        small
    }
}

impl<'l> Machine<'l> {
    pub(in crate::artifact) fn new(limits: &'l ArtifactLimits, report: PickleReport) -> Self {
        let b = SPARE.with(Cell::take).unwrap_or_default();
        Machine {
            limits,
            stack: b.stack,
            marks: b.marks,
            memo: b.memo,
            arena: b.arena,
            globals: b.globals,
            retained: 0,
            nesting: 0,
            plain: false,
            keep_bytes: 0,
            saved: Vec::new(),
            gc_at: GC_MIN,
            gc_min: GC_MIN,
            scratch: b.scratch,
            decoded: b.decoded,
            report,
        }
    }

    /// The report; the buffers go back to the thread's spare set.
    pub(in crate::artifact) fn finish(self) -> PickleReport {
        let mut b = Buffers {
            stack: self.stack,
            marks: self.marks,
            memo: self.memo,
            arena: self.arena,
            globals: self.globals,
            scratch: self.scratch,
            decoded: self.decoded,
        };
        if b.reset() {
            SPARE.with(|s| s.set(Some(b)));
        }
        self.report
    }
}

impl Machine<'_> {
    /// An error that stops (or blinds) the scan: what follows is unseen.
    pub(in crate::artifact) fn error(&mut self, msg: String) {
        self.report.stopped_early = true;
        self.report.errors.push(msg);
    }

    #[inline]
    pub(in crate::artifact) fn memoize(&mut self, key: u64, off: u64) -> Result<(), String> {
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains(key) {
            return Err(format!("limit at offset {off}: memo holds more than {} entries", self.limits.max_memo));
        }
        let top = self.top().unwrap_or(PyValue::Opaque);
        self.memo.insert(key, top);
        Ok(())
    }

    /// Record a global (see [`Globals::record`]).
    pub(in crate::artifact) fn record(
        &mut self,
        module: &str,
        name: &str,
        off: u64,
        opcode: &'static str,
        unresolved: Option<Unresolved>,
    ) -> Result<PyValue, String> {
        self.globals.record(&mut self.report, module, name, off, opcode, unresolved).map(PyValue::Global)
    }

    /// A string value whose text `write` appends to the arena; `Opaque` once
    /// the string budget is spent.
    pub(in crate::artifact) fn text(&mut self, write: impl FnOnce(&mut String)) -> PyValue {
        let start = self.arena.text.len();
        write(&mut self.arena.text);
        let len = self.arena.text.len() - start;
        if self.retained.saturating_add(len as u64) > STRING_BUDGET {
            self.arena.text.truncate(start);
            if self.retained <= STRING_BUDGET {
                self.retained = STRING_BUDGET.saturating_add(1);
                self.error("limit: string budget exhausted; later strings are treated as unresolvable".into());
            }
            return PyValue::Opaque;
        }
        self.retained += len as u64;
        if len == 0 {
            return PyValue::Str(Run::default());
        }
        // The arena never holds more text than the budget since the last
        // collection, so this only fails if the budget is raised past 4 GiB.
        match (u32::try_from(start), u32::try_from(len)) {
            (Ok(start), Ok(len)) if start.checked_add(len).is_some() => PyValue::Str(Run { start, len }),
            _ => {
                self.arena.text.truncate(start);
                PyValue::Opaque
            }
        }
    }

    #[inline]
    pub(in crate::artifact) fn push(&mut self, v: PyValue) -> Result<(), String> {
        if self.stack.len() >= MAX_STACK {
            return Err(format!("limit: stack deeper than {MAX_STACK}"));
        }
        self.stack.push(v);
        Ok(())
    }

    /// Where the current stack (above the last MARK) starts.
    #[inline]
    pub(in crate::artifact) fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// Top of the current stack.
    #[inline]
    pub(in crate::artifact) fn top(&self) -> Option<PyValue> {
        if self.stack.len() > self.base() { self.stack.last().copied() } else { None }
    }

    /// Lenient pop: an empty current stack yields `Opaque` so scanning can go
    /// on (e.g. the outer pickle resuming after a joblib object-array pickle).
    #[inline]
    pub(in crate::artifact) fn pop(&mut self) -> PyValue {
        if self.stack.len() > self.base() { self.stack.pop().unwrap_or(PyValue::Opaque) } else { PyValue::Opaque }
    }

    /// MARK: the current stack is set aside until the matching pop_mark.
    pub(in crate::artifact) fn mark(&mut self, off: u64) -> Result<(), String> {
        if self.marks.len() >= MAX_STACK {
            return Err(format!("limit at offset {off}: MARK nesting deeper than {MAX_STACK}"));
        }
        self.marks.push(self.stack.len());
        Ok(())
    }

    /// Drop the last MARK. The values that were above it are `stack[start..]`
    /// for the returned `start`; the caller uses them and truncates the stack
    /// there. Without a MARK the whole stack is taken.
    pub(in crate::artifact) fn pop_mark(&mut self) -> usize {
        self.marks.pop().unwrap_or(0).min(self.stack.len())
    }

    /// `pop_mark` whose values are discarded.
    pub(in crate::artifact) fn discard_mark(&mut self) {
        let start = self.pop_mark();
        self.stack.truncate(start);
    }

    #[inline]
    pub(in crate::artifact) fn should_collect(&self) -> bool {
        self.arena.weight() >= self.gc_at
    }

    /// Copy every value reachable from the stacks and memos into fresh
    /// arenas. Only called between opcodes: every live value is then on a
    /// stack or in a memo.
    pub(in crate::artifact) fn collect_garbage(&mut self) {
        let mut c = Copier::new(std::mem::take(&mut self.arena));
        let roots = self
            .stack
            .iter_mut()
            .chain(self.memo.values_mut())
            .chain(self.saved.iter_mut().flat_map(|s| s.stack.iter_mut().chain(s.memo.values_mut())));
        for v in roots {
            *v = c.copy(*v);
        }
        self.arena = c.finish();
        self.gc_at = self.gc_min.max(self.arena.weight().saturating_mul(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_dense_and_sparse_keys() {
        let mut m = Memo::default();
        m.insert(3, PyValue::Int(1));
        m.insert(1 << 40, PyValue::Nil);
        m.insert(3, PyValue::Int(2));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(3), Some(PyValue::Int(2)));
        assert_eq!(m.get(1 << 40), Some(PyValue::Nil));
        assert_eq!(m.get(2), None);
        assert!(!m.contains(DENSE_MEMO));
    }

    #[test]
    fn collection_keeps_reachable_values_and_identity() {
        let limits = ArtifactLimits::default();
        let mut m = Machine::new(&limits, PickleReport::default());
        let garbage = m.text(|t| t.push_str("garbage"));
        let _ = m.arena.new_tuple(&[garbage, garbage]);
        let os = m.text(|t| t.push_str("os"));
        let inner = m.arena.new_tuple(&[os, PyValue::Int(5)]);
        let d = m.arena.new_dict();
        let PyValue::Dict(di) = d else { panic!("dict") };
        let obj = m.arena.new_obj(PyValue::Global(0), inner);
        m.arena.insert_pairs(di, &[os, obj]);
        m.stack.extend([d, inner]);
        m.memo.insert(0, d);
        m.memo.insert(1, obj);
        m.collect_garbage();
        assert_eq!(m.arena.text, "os");
        // The dict on the stack and in the memo is still one dict.
        assert_eq!(m.stack[0], m.memo.get(0).unwrap_or(PyValue::Opaque));
        let PyValue::Dict(di) = m.stack[0] else { panic!("dict") };
        let (k, v) = m.arena.dict(di)[0];
        assert_eq!(str_or_q(&m.arena, k), "os");
        assert_eq!(v, m.memo.get(1).unwrap_or(PyValue::Opaque));
        let PyValue::Obj(oi) = v else { panic!("obj") };
        let args = m.arena.obj(oi).and_then(|o| o.args).unwrap_or_default();
        assert_eq!(PyValue::Tuple(args), m.stack[1]);
        assert_eq!(str_or_q(&m.arena, m.arena.tuple(args)[0]), "os");
        assert_eq!(m.arena.tuple(args)[1], PyValue::Int(5));
    }
}
