//! Static pickle scanner: a symbolic stack machine that applies every opcode's
//! stack effect without ever calling anything.
//!
//! Values are symbolic (`Str`, `Global`, `Obj`, ... or `Opaque`). Memo slots are
//! resolved by key, so `STACK_GLOBAL` operands fetched with `BINGET` still
//! resolve to the strings they name; an operand that is not a string constant
//! (a memo miss, or the *result* of an earlier call as in the
//! `sys_module_override` exploit) becomes an unresolvable global, which is
//! dangerous by definition. Scanning continues after `STOP` (concatenated
//! pickles) and keeps every finding made before an error.

use crate::artifact::ArtifactLimits;
use crate::artifact::document::PickleReport;
use crate::artifact::pickle::args::{self, ArgVal, fixed4, memo_key};
use crate::artifact::pickle::opcodes::{self, OpInfo};
use crate::artifact::pickle::pystr::{self, PyInt};
use crate::artifact::pickle::state::{Machine, PyValue, Run, Unresolved, str_or_q};
use crate::artifact::reader::ByteReader;

/// joblib object-array pickles inside object-array pickles (never legitimate).
pub(in crate::artifact) const MAX_NESTING: usize = 4;

/// Byte strings kept for a nested scan once the stream imports a loader of
/// pickled bytes; longer ones are reported, not buffered.
const NESTED_BYTES_MAX: usize = 64 << 20;

/// `torch.storage._load_from_bytes(b)` is `torch.load(io.BytesIO(b))`.
fn is_bytes_loader(module: &str, name: &str) -> bool {
    matches!((module, name), ("torch.storage", "_load_from_bytes") | ("torch", "storage._load_from_bytes"))
}

/// Per-stream scan options.
#[derive(Default)]
pub(in crate::artifact) struct ScanOptions {
    pub entry: Option<String>,
    /// Stop quietly after this many complete pickles (legacy torch: 5).
    pub max_segments: Option<u64>,
    /// Read the stream as plain `pickle.load` (and `pandas.read_pickle`,
    /// `torch.load(weights_only=False)`) do: joblib's inline array bytes are
    /// opcodes to them, not data to step over.
    pub plain: bool,
    /// Nesting depth to start at (pickles inside pickles).
    pub depth: usize,
}

pub(in crate::artifact) enum Flow {
    Continue,
    Stop,
}

/// Scan one pickle stream from the reader's current position.
pub(in crate::artifact) fn scan(r: &mut ByteReader<'_>, limits: &ArtifactLimits, opts: ScanOptions) -> PickleReport {
    let mut m = Machine::new(limits, PickleReport { entry: opts.entry, ..PickleReport::default() });
    m.plain = opts.plain;
    m.nesting = opts.depth;
    let start = r.offset();
    let mut seg_ops = 0u64;
    // Opcode arguments are read into this buffer (borrowed by the decoded
    // argument while `m` changes, so it is kept outside the machine).
    let mut scratch = std::mem::take(&mut m.scratch);
    loop {
        let next = m.next(r, &mut scratch);
        match next {
            Ok(Next::Op(Flow::Continue)) => seg_ops += 1,
            Ok(Next::Op(Flow::Stop)) => {
                m.report.segments += 1;
                seg_ops = 0;
                m.stack.clear();
                m.marks.clear();
                if m.plain {
                    // Each `pickle.load` starts with an empty memo.
                    m.memo.clear();
                }
                if opts.max_segments.is_some_and(|max| m.report.segments >= max) {
                    break;
                }
            }
            Ok(Next::Eof(off)) => {
                if seg_ops > 0 {
                    m.error(format!("truncated at offset {off}: end of data before STOP"));
                }
                break;
            }
            Ok(Next::NotOpcode(b, off)) => {
                let what = if seg_ops > 0 {
                    "invalid opcode"
                } else if m.report.segments > 0 {
                    "junk after STOP"
                } else {
                    "not a pickle"
                };
                let msg = format!("{what} at offset {off}: byte {b:#04x} is not a pickle opcode; rest not scanned");
                if seg_ops > 0 {
                    m.error(msg);
                } else {
                    // Between pickles (or before the first): the unpickler
                    // fails on this very byte, so nothing after it can run.
                    m.report.errors.push(msg);
                }
                break;
            }
            Err(msg) => {
                m.error(msg);
                break;
            }
        }
    }
    m.report.bytes_scanned = r.offset().saturating_sub(start);
    m.scratch = scratch;
    m.finish()
}

/// What the next byte of the stream turned out to be.
pub(in crate::artifact) enum Next {
    Op(Flow),
    Eof(u64),
    NotOpcode(u8, u64),
}

impl Machine<'_> {
    /// Decode and apply one opcode.
    pub(in crate::artifact) fn next(&mut self, r: &mut ByteReader<'_>, scratch: &mut Vec<u8>) -> Result<Next, String> {
        // Between two opcodes every live value is on a stack or in a memo.
        if self.should_collect() {
            self.collect_garbage();
        }
        let off = r.offset();
        if self.report.opcodes >= self.limits.max_pickle_ops as u64 {
            return Err(format!(
                "limit at offset {off}: more than {} opcodes; rest not scanned",
                self.limits.max_pickle_ops
            ));
        }
        let b = match r.byte() {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Next::Eof(off)),
            Err(e) => return Err(format!("read error at offset {off}: {e}")),
        };
        let Some(info) = opcodes::info(b) else {
            return Ok(Next::NotOpcode(b, off));
        };
        self.report.opcodes += 1;
        self.apply(r, b, info, off, scratch).map(Next::Op)
    }

    #[inline(always)]
    fn apply(
        &mut self,
        r: &mut ByteReader<'_>,
        b: u8,
        info: &OpInfo,
        off: u64,
        scratch: &mut Vec<u8>,
    ) -> Result<Flow, String> {
        let arg = args::read_arg(r, b, info, off, (self.limits.max_string, self.keep_bytes), scratch)?;
        let bad = |what: &str| format!("invalid {} at offset {off}: {what}", info.name);
        match (b, arg) {
            (b'.', _) => {
                self.pop();
                return Ok(Flow::Stop);
            }
            (0x80, ArgVal::Fixed(v)) => {
                let p = v.as_slice().first().copied().unwrap_or(0);
                if p > 5 {
                    return Err(bad(&format!("unsupported protocol {p}")));
                }
                self.report.protocol = Some(self.report.protocol.map_or(p, |q| q.max(p)));
            }
            (0x95, _) | (0x98, _) => {}
            // Integers and constants.
            (b'I' | b'L', ArgVal::Line(l)) => {
                let v = match pystr::parse_int_line(l, b == b'L').ok_or_else(|| bad("not an integer"))? {
                    PyInt::Int(i) => PyValue::Int(i),
                    PyInt::Bool(v) => PyValue::Int(i64::from(v)),
                    PyInt::Big => PyValue::Opaque,
                };
                self.push(v)?;
            }
            (b'J', ArgVal::Fixed(v)) => self.push(PyValue::Int(i64::from(i32::from_le_bytes(fixed4(v.as_slice())))))?,
            (b'K', ArgVal::Fixed(v)) => {
                self.push(PyValue::Int(i64::from(v.as_slice().first().copied().unwrap_or(0))))?;
            }
            (b'M', ArgVal::Fixed(v)) => {
                let v = v.as_slice();
                let n = u16::from_le_bytes([v.first().copied().unwrap_or(0), v.get(1).copied().unwrap_or(0)]);
                self.push(PyValue::Int(i64::from(n)))?;
            }
            (0x8a | 0x8b, ArgVal::Payload(p)) => {
                let v = p.and_then(pystr::le_signed).map_or(PyValue::Opaque, PyValue::Int);
                self.push(v)?;
            }
            (b'F', ArgVal::Line(l)) => {
                if !pystr::plausible_float(l) {
                    return Err(bad("not a float"));
                }
                self.push(PyValue::Opaque)?;
            }
            (b'N', _) => self.push(PyValue::Nil)?,
            (0x88, _) => self.push(PyValue::Int(1))?,
            (0x89, _) => self.push(PyValue::Int(0))?,
            // Text: these can become STACK_GLOBAL operands, so keep them.
            (b'S', ArgVal::Line(l)) => {
                let mut raw = std::mem::take(&mut self.decoded);
                if !pystr::decode_quoted_into(l, &mut raw) {
                    self.decoded = raw;
                    return Err(bad("STRING argument is not quoted"));
                }
                let v = self.text(|t| pystr::latin1_into(&raw, t));
                self.decoded = raw;
                self.push(v)?;
            }
            (b'V', ArgVal::Line(l)) => {
                let v = self.text(|t| pystr::raw_unicode_escape_into(l, t));
                self.push(v)?;
            }
            (b'T' | b'U', ArgVal::Payload(Some(p))) => {
                let v = self.text(|t| pystr::latin1_into(p, t));
                self.push(v)?;
            }
            (b'X' | 0x8c | 0x8d, ArgVal::Payload(Some(p))) => {
                let v = self.text(|t| match std::str::from_utf8(p) {
                    Ok(s) => t.push_str(s),
                    Err(_) => t.push_str(&String::from_utf8_lossy(p)),
                });
                self.push(v)?;
            }
            (b'B' | b'C' | 0x8e, ArgVal::Payload(Some(p))) => {
                self.nested_bytes(p, off)?;
                self.push(PyValue::Opaque)?;
            }
            // Everything else that just pushes an opaque object.
            (
                b'S' | b'V' | b'T' | b'U' | b'X' | 0x8c | 0x8d | b'B' | b'C' | 0x8e | 0x96 | 0x97 | b'G' | b']' | 0x8f,
                _,
            ) => self.push(PyValue::Opaque)?,
            (b'a', _) => {
                self.pop();
            }
            (b'e' | 0x90, _) => self.discard_mark(),
            (b'l' | 0x91, _) => {
                self.discard_mark();
                self.push(PyValue::Opaque)?;
            }
            (b')', _) => self.push(PyValue::Tuple(Run::default()))?,
            (b't', _) => {
                let start = self.pop_mark();
                let t = self.arena.new_tuple(&self.stack[start..]);
                self.stack.truncate(start);
                self.push(t)?;
            }
            (0x85..=0x87, _) => {
                let n = usize::from(b - 0x84);
                let mut items = [PyValue::Opaque; 3];
                for slot in items[..n].iter_mut().rev() {
                    *slot = self.pop();
                }
                let t = self.arena.new_tuple(&items[..n]);
                self.push(t)?;
            }
            (b'}', _) => {
                let d = self.arena.new_dict();
                self.push(d)?;
            }
            (b'd', _) => {
                let start = self.pop_mark();
                let d = self.arena.new_dict();
                if let PyValue::Dict(i) = d {
                    self.arena.insert_pairs(i, &self.stack[start..]);
                }
                self.stack.truncate(start);
                self.push(d)?;
            }
            (b's', _) => {
                let v = self.pop();
                let k = self.pop();
                if let Some(PyValue::Dict(d)) = self.top() {
                    self.arena.insert_pairs(d, &[k, v]);
                }
            }
            (b'u', _) => {
                let start = self.pop_mark();
                // The dict is the top of the stack below the MARK.
                let below = if start > self.base() { self.stack.get(start - 1).copied() } else { None };
                if let Some(PyValue::Dict(d)) = below {
                    self.arena.insert_pairs(d, &self.stack[start..]);
                }
                self.stack.truncate(start);
            }
            (b'0', _) => {
                if self.stack.len() > self.base() {
                    self.stack.pop();
                } else {
                    self.discard_mark();
                }
            }
            (b'2', _) => {
                let top = self.top().unwrap_or(PyValue::Opaque);
                self.push(top)?;
            }
            (b'(', _) => self.mark(off)?,
            (b'1', _) => self.discard_mark(),
            // Memo.
            (b'g' | b'h' | b'j', arg) => {
                let key = memo_key(&arg).ok_or_else(|| bad("bad memo key"))?;
                if self.plain && !self.memo.contains(key) {
                    // The unpickler raises here; reading on would invent values.
                    return Err(bad(&format!("memo key {key} was never stored")));
                }
                let v = self.memo.get(key).unwrap_or(PyValue::Opaque);
                self.push(v)?;
            }
            (b'p' | b'q' | b'r', arg) => {
                let key = memo_key(&arg).ok_or_else(|| bad("bad memo key"))?;
                self.memoize(key, off)?;
            }
            (0x94, _) => {
                let key = self.memo.len() as u64;
                self.memoize(key, off)?;
            }
            // Imports.
            (0x82..=0x84, ArgVal::Fixed(v)) => {
                let v = v.as_slice();
                let mut le = [0u8; 4];
                le[..v.len().min(4)].copy_from_slice(&v[..v.len().min(4)]);
                let code = i32::from_le_bytes(le);
                let name = format!("ext:{code}");
                let g = self.record("?", &name, off, info.name, Some(Unresolved::Extension(code)))?;
                self.push(g)?;
            }
            (b'c', ArgVal::Pair(m, n)) => {
                if is_bytes_loader(m, n) {
                    self.keep_bytes = NESTED_BYTES_MAX;
                }
                let g = self.record(m, n, off, info.name, None)?;
                self.push(g)?;
            }
            (0x93, _) => {
                let name = self.pop();
                let module = self.pop();
                let unresolved = match (module, name) {
                    (PyValue::Str(_), PyValue::Str(_)) => None,
                    _ => Some(Unresolved::StackGlobal),
                };
                let (m, n) = (str_or_q(&self.arena, module), str_or_q(&self.arena, name));
                if is_bytes_loader(m, n) {
                    self.keep_bytes = NESTED_BYTES_MAX;
                }
                let g = self.globals.record(&mut self.report, m, n, off, info.name, unresolved)?;
                self.push(PyValue::Global(g))?;
            }
            // Calls: the opcodes that make loading a pickle run code.
            (b'R', _) => {
                let args = self.pop();
                let callable = self.pop();
                self.report.calls += 1;
                let o = self.arena.new_obj(callable, args);
                self.push(o)?;
            }
            (0x81, _) => {
                let args = self.pop();
                let cls = self.pop();
                self.report.calls += 1;
                let o = self.arena.new_obj(cls, args);
                self.push(o)?;
            }
            (0x92, _) => {
                let _kwargs = self.pop();
                let args = self.pop();
                let cls = self.pop();
                self.report.calls += 1;
                let o = self.arena.new_obj(cls, args);
                self.push(o)?;
            }
            (b'o', _) => {
                let start = self.pop_mark();
                self.report.calls += 1;
                let (cls, args) = match self.stack.get(start..) {
                    Some([cls, rest @ ..]) => (*cls, rest),
                    _ => (PyValue::Opaque, &[][..]),
                };
                let args = self.arena.new_tuple(args);
                self.stack.truncate(start);
                let o = self.arena.new_obj(cls, args);
                self.push(o)?;
            }
            (b'i', ArgVal::Pair(m, n)) => {
                let g = self.record(m, n, off, info.name, None)?;
                let start = self.pop_mark();
                self.report.calls += 1;
                let args = self.arena.new_tuple(&self.stack[start..]);
                self.stack.truncate(start);
                let o = self.arena.new_obj(g, args);
                self.push(o)?;
            }
            (b'b', _) => {
                let state = self.pop();
                self.report.calls += 1;
                self.build(r, state, off)?;
            }
            (b'P', _) => {
                self.report.persistent_ids += 1;
                self.push(PyValue::Opaque)?;
            }
            (b'Q', _) => {
                self.pop();
                self.report.persistent_ids += 1;
                self.push(PyValue::Opaque)?;
            }
            _ => return Err(bad("unexpected argument")),
        }
        Ok(Flow::Continue)
    }

    /// Replace the top of the current stack, if there is one.
    pub(in crate::artifact) fn set_top(&mut self, v: PyValue) {
        if self.stack.len() > self.base()
            && let Some(top) = self.stack.last_mut()
        {
            *top = v;
        }
    }
}

#[cfg(test)]
mod tests;
