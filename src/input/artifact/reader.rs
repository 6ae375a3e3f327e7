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
use std::io::{self, Read, Seek, SeekFrom};

/// Anything we can both read and seek; blanket-implemented so `File`,
/// `Cursor<&[u8]>` and `&mut` references all qualify.
pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

const BUF_SIZE: usize = 64 * 1024;
/// First buffer of a seekable source: headers and the pickles of legacy
/// torch files are usually much smaller than the file; grow when needed.
const FIRST_BUF: usize = 16 * 1024;

enum Source<'a> {
    /// Everything is already in `buf` (borrowed): end of buffer is end of stream.
    Memory,
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
    buf: Cow<'a, [u8]>,
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
        ByteReader { src: Source::Memory, buf: Cow::Borrowed(bytes), pos: 0, len: bytes.len(), offset: 0 }
    }

    fn with_source(src: Source<'a>, offset: u64) -> Self {
        // Most model files in a scan are small pickles or headers: start with a buffer that fits what is
        // left (or 4 KiB for streams) and grow on demand, instead of zeroing 64 KiB per file.
        let initial = match &src {
            Source::Seekable { end, .. } => {
                end.saturating_sub(offset).saturating_add(1).clamp(16, FIRST_BUF as u64) as usize
            }
            Source::Stream(_) | Source::Memory => 4096,
        };
        ByteReader { src, buf: Cow::Owned(vec![0; initial]), pos: 0, len: 0, offset }
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
        if matches!(self.src, Source::Memory) {
            return Ok(false);
        }
        let buf = self.buf.to_mut();
        // A buffer filled to the brim means more is coming: read bigger chunks from now on.
        if self.len == buf.len() && buf.len() < BUF_SIZE {
            let bigger = (buf.len() * 4).min(BUF_SIZE);
            buf.resize(bigger, 0);
        }
        self.pos = 0;
        self.len = 0;
        loop {
            let res = match &mut self.src {
                Source::Memory => Ok(0),
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
    /// Callers bound `n` themselves (by `Limits::max_string` or a format constant).
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
            // The whole stream was in the buffer: nothing is left to skip.
            Source::Memory => Ok(in_buf),
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
