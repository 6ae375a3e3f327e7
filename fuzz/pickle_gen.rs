//! Well-formed pickle streams from arbitrary bytes, with a dangerous import
//! spliced in between two opcodes: the generator behind the safety property
//! "a stream that imports a dangerous global is never reported clean".
//!
//! Shared by the `artifact_safety` fuzz target and the bounded property test
//! in `tests/artifact_rules.rs` (included there with `#[path]`), so both check
//! the same property. Every opcode is complete (arguments of the right shape
//! and length), so the spliced GLOBAL is an opcode the unpickler executes, not
//! data inside another opcode's argument. Streams start with PROTO so the
//! format is never mistaken for another (the legacy-torch magic, whose loader
//! reads only five pickles, is never produced: LONG1 stays under 10 bytes).

/// The spliced import, as protocol 0 GLOBAL + a call of it.
pub const DANGEROUS: &[&[u8]] = &[
    b"cos\nsystem\n(S'id'\ntR",
    b"cbuiltins\neval\n",
    b"\x8c\x0asubprocess\x94\x8c\x05Popen\x94\x93",
    b"\x8c\x07logging\x8c\x09os.system\x93",
];

/// Globals the random part may import: safe or merely unknown ones.
const BENIGN: &[&[u8]] =
    &[b"collections\nOrderedDict\n", b"torch._utils\n_rebuild_tensor_v2\n", b"mylib.models\nNet\n", b"numpy\ndtype\n"];

/// Reads the fuzz input as a stream of choices.
struct Choices<'a> {
    data: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = self.data.get(self.at).copied();
        self.at += 1;
        b
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte().unwrap_or(0)).collect()
    }

    fn ascii(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b'a' + self.byte().unwrap_or(0) % 26).collect()
    }
}

/// One complete opcode chosen by `c` appended to `out`; `None` (and nothing
/// appended, never half an opcode) when the input is used up.
fn opcode(c: &mut Choices<'_>, out: &mut Vec<u8>) -> Option<()> {
    let mut op = Vec::new();
    one(c, &mut op)?;
    out.extend(op);
    Some(())
}

fn one(c: &mut Choices<'_>, out: &mut Vec<u8>) -> Option<()> {
    const SIMPLE: &[u8] = b"N)]}(0212aeltsud\x85\x86\x87\x88\x89\x8f\x90\x91RbQo\x81\x92\x94\x93.";
    let pick = c.byte()?;
    match pick % 24 {
        0..=5 => out.push(SIMPLE[usize::from(c.byte()?) % SIMPLE.len()]),
        6 => out.extend([b'K', c.byte()?]),
        7 => {
            out.push(b'M');
            out.extend(c.bytes(2));
        }
        8 => {
            out.push(b'J');
            out.extend(c.bytes(4));
        }
        9 => {
            out.push(b'G');
            out.extend(c.bytes(8));
        }
        10 => out.extend([b'h', c.byte()?]),
        11 => out.extend([b'q', c.byte()?]),
        12 => {
            out.push(if pick & 0x80 != 0 { b'j' } else { b'r' });
            out.extend(c.bytes(4));
        }
        13 => {
            let n = c.byte()? % 12;
            out.extend([0x8c, n]);
            out.extend(c.ascii(usize::from(n)));
        }
        14 => {
            let n = c.byte()? % 12;
            out.push(b'X');
            out.extend(u32::from(n).to_le_bytes());
            out.extend(c.ascii(usize::from(n)));
        }
        15 => {
            let n = c.byte()? % 12;
            out.extend([b'C', n]);
            out.extend(c.bytes(usize::from(n)));
        }
        16 => {
            let n = c.byte()? % 9;
            out.extend([0x8a, n]);
            out.extend(c.bytes(usize::from(n)));
        }
        17 => out.extend(format!("I{}\n", i64::from(c.byte()?) - 100).bytes()),
        18 => out.extend(format!("F{}.5\n", c.byte()?).bytes()),
        19 => {
            out.extend(b"S'");
            out.extend(c.ascii(3));
            out.extend(b"'\n");
        }
        20 => {
            out.push(b'V');
            out.extend(c.ascii(4));
            out.push(b'\n');
        }
        21 => out.extend(format!("{}{}\n", if pick & 0x80 != 0 { 'g' } else { 'p' }, c.byte()?).bytes()),
        22 => {
            out.push(if pick & 0x80 != 0 { b'i' } else { b'c' });
            out.extend(BENIGN[usize::from(c.byte()?) % BENIGN.len()]);
        }
        _ => {
            out.extend([0x95]);
            out.extend(c.bytes(8));
        }
    }
    Some(())
}

/// A stream from `data`: PROTO, random opcodes with one dangerous import
/// spliced in at an opcode boundary, STOP.
pub fn stream(data: &[u8]) -> Vec<u8> {
    let mut c = Choices { data, at: 0 };
    let proto = 2 + c.byte().unwrap_or(0) % 4;
    let dangerous = DANGEROUS[usize::from(c.byte().unwrap_or(0)) % DANGEROUS.len()];
    let splice_after = usize::from(c.byte().unwrap_or(0)) % 64;
    let mut out = vec![0x80, proto];
    let mut ops = 0usize;
    let mut spliced = false;
    loop {
        if ops == splice_after {
            out.extend_from_slice(dangerous);
            spliced = true;
        }
        if ops >= 4096 || opcode(&mut c, &mut out).is_none() {
            break;
        }
        ops += 1;
    }
    if !spliced {
        out.extend_from_slice(dangerous);
    }
    out.push(b'.');
    out
}
