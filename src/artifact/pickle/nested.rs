//! Pickles inside pickles: joblib's object arrays (a separate pickle in the
//! same stream), the raw array bytes joblib steps over, and byte strings a
//! loader such as `torch.storage._load_from_bytes` unpickles.

use crate::artifact::document::Classification;
use crate::artifact::pickle::joblib;
use crate::artifact::pickle::state::{Machine, PyValue, Saved, Unresolved};
use crate::artifact::pickle::{Flow, MAX_NESTING, Next, ScanOptions, scan};
use crate::artifact::reader::ByteReader;

impl Machine<'_> {
    /// joblib writes object arrays as a separate `pickle.dump` that
    /// `joblib.load` reads with its own unpickler: scan it with a fresh stack
    /// and memo so its memo keys do not clobber the outer pickle's.
    pub(in crate::artifact) fn nested_pickle(&mut self, r: &mut ByteReader<'_>, off: u64) -> Result<(), String> {
        if self.nesting >= MAX_NESTING {
            return Err(format!("limit at offset {off}: joblib object arrays nested too deeply"));
        }
        self.saved.push(Saved {
            stack: std::mem::take(&mut self.stack),
            marks: std::mem::take(&mut self.marks),
            memo: std::mem::take(&mut self.memo),
        });
        self.nesting += 1;
        let mut scratch = Vec::new();
        let res = loop {
            match self.next(r, &mut scratch) {
                Ok(Next::Op(Flow::Stop)) => break Ok(()),
                Ok(Next::Op(Flow::Continue)) => {}
                Ok(Next::Eof(at)) => {
                    break Err(format!("truncated at offset {at}: joblib object array pickle has no STOP"));
                }
                Ok(Next::NotOpcode(b, at)) => {
                    break Err(format!(
                        "invalid opcode at offset {at}: byte {b:#04x} inside a joblib object array pickle"
                    ));
                }
                Err(e) => break Err(e),
            }
        };
        self.nesting -= 1;
        if let Some(outer) = self.saved.pop() {
            self.stack = outer.stack;
            self.marks = outer.marks;
            self.memo = outer.memo;
        }
        res
    }

    /// BUILD: remember tuple state (numpy dtypes) and step over the raw array
    /// bytes joblib writes right after a NumpyArrayWrapper's BUILD.
    pub(in crate::artifact) fn build(
        &mut self,
        r: &mut ByteReader<'_>,
        state: PyValue,
        off: u64,
    ) -> Result<(), String> {
        let Some(PyValue::Obj(o)) = self.top() else {
            return Ok(());
        };
        if self.plain {
            return Ok(());
        }
        if let (PyValue::Tuple(t), Some(obj)) = (state, self.arena.objs.get_mut(o as usize)) {
            obj.state = Some(t);
        }
        let view = joblib::View { arena: &self.arena, globals: &self.report.globals };
        if joblib::is_object_array(&view, o, state) {
            // Garbage may be collected while the nested pickle is scanned:
            // `o` and `state` must not be used after this call.
            self.nested_pickle(r, off)?;
            self.report.joblib_arrays += 1;
            self.set_top(PyValue::Opaque);
        } else if let Some(skip) = joblib::array_skip(&view, o, state) {
            let skip = skip.map_err(|e| format!("joblib array at offset {off}: {e}; rest not scanned"))?;
            joblib::step_over(r, &skip).map_err(|e| format!("joblib array at offset {off}: {e}"))?;
            self.report.joblib_arrays += 1;
            self.set_top(PyValue::Opaque);
        }
        Ok(())
    }

    /// Bytes kept because the stream imports a loader of pickled bytes
    /// (`torch.storage._load_from_bytes`): a nested `torch.save` pickle is
    /// scanned and its globals join this stream's.
    pub(in crate::artifact) fn nested_bytes(&mut self, payload: &[u8], off: u64) -> Result<(), String> {
        if !payload.starts_with(&[0x80]) {
            if payload.starts_with(b"PK\x03\x04") {
                self.error(format!(
                    "nested torch.save zip at offset {off} (inside _load_from_bytes bytes) not inspected"
                ));
            }
            return Ok(());
        }
        if self.nesting >= MAX_NESTING {
            return Err(format!("limit at offset {off}: nested pickles inside bytes nested too deeply"));
        }
        let mut limits = self.limits.clone();
        limits.max_pickle_ops = limits.max_pickle_ops.saturating_sub(self.report.opcodes as usize);
        let opts = ScanOptions { depth: self.nesting + 1, ..ScanOptions::default() };
        let rep = scan(&mut ByteReader::memory(payload), &limits, opts);
        for g in rep.globals {
            let unresolved = (g.classification == Classification::Dangerous && (g.module == "?" || g.name == "?"))
                .then_some(Unresolved::StackGlobal);
            self.globals.record(&mut self.report, &g.module, &g.name, off, g.opcode, unresolved)?;
        }
        self.report.calls += rep.calls;
        for e in rep.errors {
            self.report.errors.push(format!("nested pickle at offset {off}: {e}"));
        }
        if rep.stopped_early {
            self.report.stopped_early = true;
        }
        Ok(())
    }
}
