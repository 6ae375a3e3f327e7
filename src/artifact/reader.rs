//! Buffered, bounded byte access shared by the format parsers.
//!
//! Parsers never read a whole file: they pull bytes through [`ByteReader`],
//! which keeps one fixed buffer, tracks the absolute offset (for error
//! messages and findings) and can skip large payloads cheaply — by seeking
//! when the source allows it (files, in-memory buffers) and by reading into a
//! scratch buffer otherwise (decompressing zip entries). Bytes already in
//! memory (small files read whole, [`super::inspect_bytes`]) are parsed in
//! place: the reader borrows them and never copies or calls into I/O.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{self, Read, Seek, SeekFrom};

/// Anything we can both read and seek; blanket-implemented so `File`,
/// `Cursor<&[u8]>` and `&mut` references all qualify.
pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

const BUF_SIZE: usize = 64 * 1024;

enum Source<'a> {
    /// Everything is already in `buf` (borrowed); end of `buf` is end of
    /// stream. `buf[pos..len]` is a window that advances exactly as a
    /// seekable reader's buffer would fill (`cap` its size, `last` the
    /// length of the last fill), so what a parser sees at buffer boundaries
    /// (how much of an over-long line was consumed) does not depend on
    /// whether the bytes came from memory or from a file.
    Memory {
        cap: usize,
        last: usize,
    },
    Stream(&'a mut dyn Read),
    /// `end` is the absolute end of the stream, so skips can be clamped.
    Seekable {
        inner: &'a mut dyn ReadSeek,
        end: u64,
    },
}

/// Result of reading a newline-terminated line.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    Complete,
    TooLong,
    Eof,
}

pub(super) struct ByteReader<'a> {
    src: Source<'a>,
    /// The bytes (memory) or the buffer (streams; may be longer than `size`,
    /// as buffers are recycled).
    buf: Cow<'a, [u8]>,
    /// How much of `buf` a stream reads into at a time.
    size: usize,
    pos: usize,
    len: usize,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
}

impl<'a> ByteReader<'a> {
    /// Wrap a forward-only stream whose first byte is at absolute `offset`.
    pub(super) fn stream(inner: &'a mut dyn Read, offset: u64) -> Self {
        Self::with_source(Source::Stream(inner), offset)
    }

    /// Wrap a seekable source positioned at its current position.
    pub(super) fn seekable(inner: &'a mut dyn ReadSeek) -> io::Result<Self> {
        let start = inner.stream_position()?;
        let end = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(start))?;
        Ok(Self::with_source(Source::Seekable { inner, end }, start))
    }

    /// Read bytes held in memory, in place; offsets start at 0.
    pub(super) fn memory(bytes: &'a [u8]) -> Self {
        let cap = bytes.len().saturating_add(1).clamp(16, BUF_SIZE);
        ByteReader {
            src: Source::Memory { cap, last: 0 },
            buf: Cow::Borrowed(bytes),
            size: 0,
            pos: 0,
            len: 0,
            offset: 0,
        }
    }

    fn with_source(src: Source<'a>, offset: u64) -> Self {
        // Most model files in a scan are small pickles or headers: start with a buffer that fits what is
        // left (or 4 KiB for streams) and grow on demand, instead of zeroing 64 KiB per file.
        let initial = match &src {
            Source::Seekable { end, .. } => {
                end.saturating_sub(offset).saturating_add(1).clamp(16, BUF_SIZE as u64) as usize
            }
            Source::Stream(_) | Source::Memory { .. } => 4096,
        };
        let mut buf = take_buffer();
        if buf.len() < initial {
            buf.resize(initial, 0);
        }
        ByteReader { src, buf: Cow::Owned(buf), size: initial, pos: 0, len: 0, offset }
    }

    /// Absolute offset of the next byte.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Make sure at least one byte is buffered; false at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if let Source::Memory { cap, last } = &mut self.src {
            let total = self.buf.len();
            if self.pos >= total {
                return Ok(false);
            }
            if *last == *cap && *cap < BUF_SIZE {
                *cap = (*cap * 4).min(BUF_SIZE);
            }
            self.len = self.pos.saturating_add(*cap).min(total);
            *last = self.len - self.pos;
            return Ok(true);
        }
        // A buffer filled to the brim means more is coming: read bigger chunks from now on.
        if self.len == self.size && self.size < BUF_SIZE {
            self.size = (self.size * 4).min(BUF_SIZE);
        }
        let buf = self.buf.to_mut();
        if buf.len() < self.size {
            buf.resize(self.size, 0);
        }
        let buf = &mut buf[..self.size];
        self.pos = 0;
        self.len = 0;
        loop {
            let res = match &mut self.src {
                Source::Memory { .. } => Ok(0),
                Source::Stream(r) => r.read(buf),
                Source::Seekable { inner, .. } => inner.read(buf),
            };
            match res {
                Ok(n) => {
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn peek(&mut self) -> io::Result<Option<u8>> {
        if !self.fill()? {
            return Ok(None);
        }
        Ok(self.buf.get(self.pos).copied())
    }

    #[inline]
    pub(super) fn byte(&mut self) -> io::Result<Option<u8>> {
        if self.pos < self.len
            && let Some(&b) = self.buf.get(self.pos)
        {
            self.pos += 1;
            self.offset = self.offset.saturating_add(1);
            return Ok(Some(b));
        }
        let b = self.peek()?;
        if b.is_some() {
            self.pos += 1;
            self.offset = self.offset.saturating_add(1);
        }
        Ok(b)
    }

    /// Append up to `n` bytes to `out`; returns how many were appended (fewer at EOF).
    /// Callers bound `n` themselves (by `ArtifactLimits::max_string` or a format constant).
    #[inline]
    pub(super) fn read_into(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<usize> {
        // Fast path: all of it is buffered.
        if let Some(end) = self.pos.checked_add(n).filter(|end| *end <= self.len)
            && let Some(chunk) = self.buf.get(self.pos..end)
        {
            out.extend_from_slice(chunk);
            self.pos = end;
            self.offset = self.offset.saturating_add(n as u64);
            return Ok(n);
        }
        self.read_into_slow(n, out)
    }

    fn read_into_slow(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut done = 0usize;
        while done < n {
            if !self.fill()? {
                break;
            }
            let avail = self.len - self.pos;
            let take = avail.min(n - done);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            done += take;
            self.offset = self.offset.saturating_add(take as u64);
        }
        Ok(done)
    }

    /// Read exactly `n <= 8` bytes into the start of an array, or `None` at
    /// EOF (what was there is consumed, as with `read_into`).
    #[inline]
    pub(super) fn fixed(&mut self, n: usize) -> io::Result<Option<[u8; 8]>> {
        let mut out = [0u8; 8];
        let n = n.min(8);
        if let Some(end) = self.pos.checked_add(n).filter(|end| *end <= self.len)
            && let Some(chunk) = self.buf.get(self.pos..end)
        {
            out[..n].copy_from_slice(chunk);
            self.pos = end;
            self.offset = self.offset.saturating_add(n as u64);
            return Ok(Some(out));
        }
        let mut done = 0usize;
        while done < n {
            if !self.fill()? {
                return Ok(None);
            }
            let take = (self.len - self.pos).min(n - done);
            out[done..done + take].copy_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            done += take;
            self.offset = self.offset.saturating_add(take as u64);
        }
        Ok(Some(out))
    }

    /// Read exactly `N` bytes into an array, or `None` at EOF.
    pub(super) fn array<const N: usize>(&mut self) -> io::Result<Option<[u8; N]>> {
        let mut out = [0u8; N];
        let mut done = 0usize;
        while done < N {
            if !self.fill()? {
                return Ok(None);
            }
            let take = (self.len - self.pos).min(N - done);
            out[done..done + take].copy_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            done += take;
            self.offset = self.offset.saturating_add(take as u64);
        }
        Ok(Some(out))
    }

    /// Skip `n` bytes; returns how many were actually skipped (fewer at EOF).
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let in_buf = ((self.len - self.pos) as u64).min(n);
        // `in_buf <= len - pos`, which is a usize, so the cast is lossless.
        self.pos += in_buf as usize;
        self.offset = self.offset.saturating_add(in_buf);
        let mut remaining = n - in_buf;
        if remaining == 0 {
            return Ok(n);
        }
        match &mut self.src {
            Source::Memory { .. } => {
                // As a seek: the window is empty here and `offset == pos`.
                let total = self.buf.len() as u64;
                let target = self.offset.saturating_add(remaining).min(total);
                let skipped = target.saturating_sub(self.offset);
                self.offset = target;
                // `target <= total`, a usize.
                self.pos = target as usize;
                self.len = self.pos;
                Ok(in_buf + skipped)
            }
            Source::Seekable { inner, end } => {
                // The buffer is empty here, so `offset` is the inner position.
                let target = self.offset.saturating_add(remaining).min(*end);
                inner.seek(SeekFrom::Start(target))?;
                let skipped = target - self.offset;
                self.offset = target;
                Ok(in_buf + skipped)
            }
            Source::Stream(_) => {
                while remaining > 0 {
                    if !self.fill()? {
                        break;
                    }
                    let take = ((self.len - self.pos) as u64).min(remaining);
                    self.pos += take as usize;
                    self.offset = self.offset.saturating_add(take);
                    remaining -= take;
                }
                Ok(n - remaining)
            }
        }
    }

    /// Read a line (without its `\n`) of at most `max` bytes into `out`.
    pub(super) fn line(&mut self, max: usize, out: &mut Vec<u8>) -> io::Result<Line> {
        loop {
            if !self.fill()? {
                return Ok(Line::Eof);
            }
            let window = &self.buf[self.pos..self.len];
            let (chunk, found) = match window.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (window.len(), false),
            };
            if out.len().saturating_add(chunk) > max {
                return Ok(Line::TooLong);
            }
            out.extend_from_slice(&window[..chunk]);
            let consumed = if found { chunk + 1 } else { chunk };
            self.pos += consumed;
            self.offset = self.offset.saturating_add(consumed as u64);
            if found {
                return Ok(Line::Complete);
            }
        }
    }
}

impl Drop for ByteReader<'_> {
    fn drop(&mut self) {
        if let Cow::Owned(buf) = std::mem::take(&mut self.buf) {
            give_buffer(buf);
        }
    }
}

thread_local! {
    /// Spare stream buffers (initialised, so reusing one costs no zeroing).
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Spare buffers kept per thread.
const SPARE_BUFFERS: usize = 4;

/// A recycled buffer (any length, contents stale) or a new empty one.
pub(super) fn take_buffer() -> Vec<u8> {
    SPARE.with(|s| s.borrow_mut().pop()).unwrap_or_default()
}

/// Hand a buffer back for reuse (large ones are freed).
pub(super) fn give_buffer(buf: Vec<u8>) {
    if buf.capacity() <= BUF_SIZE {
        SPARE.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARE_BUFFERS {
                s.push(buf);
            }
        });
    }
}

impl ByteReader<'_> {
    /// Consume bytes up to and including the next `\n` (for over-long text
    /// lines that are skipped rather than kept). False if EOF came first.
    pub(super) fn skip_line(&mut self) -> io::Result<bool> {
        loop {
            if !self.fill()? {
                return Ok(false);
            }
            let window = &self.buf[self.pos..self.len];
            let (consumed, found) = match window.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (window.len(), false),
            };
            self.pos += consumed;
            self.offset = self.offset.saturating_add(consumed as u64);
            if found {
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lines_skips_and_offsets() {
        let data = b"abc\ndef\nrest-of-data".to_vec();
        let mut cur = Cursor::new(&data[..]);
        let mut r = ByteReader::seekable(&mut cur).expect("cursor");
        let mut line = Vec::new();
        assert_eq!(r.line(10, &mut line).ok(), Some(Line::Complete));
        assert_eq!(line, b"abc");
        assert_eq!(r.offset(), 4);
        assert_eq!(r.skip(4).ok(), Some(4));
        assert_eq!(r.byte().ok().flatten(), Some(b'r'));
        assert_eq!(r.skip(1_000_000).ok(), Some(11));
        assert_eq!(r.byte().ok().flatten(), None);
    }

    /// The in-memory reader sees the same windows as a seekable reader over
    /// the same bytes: same lines, same over-long-line consumption, same skips.
    #[test]
    fn memory_reader_behaves_like_a_seekable_one() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // A line longer than the limit that spans a buffer refill: the part
        // before the refill is consumed, then the line is refused.
        let mut long = vec![b'a'; 70_000];
        long.push(b'\n');
        let mut cur = Cursor::new(&long[..]);
        let Ok(mut a) = ByteReader::seekable(&mut cur) else { panic!("cursor") };
        let mut b = ByteReader::memory(&long);
        let (mut la, mut lb) = (Vec::new(), Vec::new());
        assert_eq!(a.line(65_546, &mut la).ok(), Some(Line::TooLong));
        assert_eq!(b.line(65_546, &mut lb).ok(), Some(Line::TooLong));
        assert_eq!((a.offset(), b.offset()), (65_536, 65_536));
        for (size, every) in
            [(0usize, 50u64), (1, 50), (17, 5), (4096, 50), (65536, 50), (65537, 30_000), (150_000, 30_000)]
        {
            let data: Vec<u8> = (0..size).map(|_| if next() % every == 0 { b'\n' } else { b'a' }).collect();
            let mut cur = Cursor::new(&data[..]);
            let Ok(mut a) = ByteReader::seekable(&mut cur) else { panic!("cursor") };
            let mut b = ByteReader::memory(&data);
            for _ in 0..400 {
                let (mut la, mut lb) = (Vec::new(), Vec::new());
                match next() % 5 {
                    0 => {
                        let n = next() % 70_000;
                        assert_eq!(a.skip(n).ok(), b.skip(n).ok());
                    }
                    1 => {
                        let n = usize::try_from(next() % 9).unwrap_or(0);
                        assert_eq!(a.fixed(n).ok(), b.fixed(n).ok());
                    }
                    2 => assert_eq!(a.skip_line().ok(), b.skip_line().ok()),
                    _ => {
                        let bound = if next() % 2 == 0 { 100 } else { 80_000 };
                        let max = usize::try_from(next() % bound).unwrap_or(0);
                        assert_eq!(a.line(max, &mut la).ok(), b.line(max, &mut lb).ok());
                        assert_eq!(la, lb);
                    }
                }
                assert_eq!(a.offset(), b.offset(), "size {size}");
            }
        }
    }

    #[test]
    fn stream_skip_stops_at_eof_and_long_lines_are_refused() {
        let data = b"0123456789";
        let mut slice: &[u8] = data;
        let mut r = ByteReader::stream(&mut slice, 100);
        let mut line = Vec::new();
        assert_eq!(r.line(3, &mut line).ok(), Some(Line::TooLong));
        let mut r2_data: &[u8] = b"xy";
        let mut r2 = ByteReader::stream(&mut r2_data, 0);
        assert_eq!(r2.skip(u64::MAX).ok(), Some(2));
        assert_eq!(r2.offset(), 2);
        let _ = r.offset();
    }
}
