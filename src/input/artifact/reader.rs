//! Buffered, bounded byte access shared by the format parsers.
//!
//! Parsers never read a whole file: they pull bytes through [`ByteReader`],
//! which keeps one fixed buffer, tracks the absolute offset (for error
//! messages and findings) and can skip large payloads cheaply — by seeking
//! when the source allows it (files, in-memory buffers) and by reading into a
//! scratch buffer otherwise (decompressing zip entries).

use std::io::{self, Read, Seek, SeekFrom};

/// Anything we can both read and seek; blanket-implemented so `File`,
/// `Cursor<&[u8]>` and `&mut` references all qualify.
pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

const BUF_SIZE: usize = 64 * 1024;

enum Source<'a> {
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
    buf: Vec<u8>,
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

    fn with_source(src: Source<'a>, offset: u64) -> Self {
        // Most model files in a scan are small pickles or headers: start with a buffer that fits what is
        // left (or 4 KiB for streams) and grow on demand, instead of zeroing 64 KiB per file.
        let initial = match &src {
            Source::Seekable { end, .. } => {
                end.saturating_sub(offset).saturating_add(1).clamp(16, BUF_SIZE as u64) as usize
            }
            Source::Stream(_) => 4096,
        };
        ByteReader { src, buf: vec![0; initial], pos: 0, len: 0, offset }
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
        // A buffer filled to the brim means more is coming: read bigger chunks from now on.
        if self.len == self.buf.len() && self.buf.len() < BUF_SIZE {
            let bigger = (self.buf.len() * 4).min(BUF_SIZE);
            self.buf.resize(bigger, 0);
        }
        self.pos = 0;
        self.len = 0;
        loop {
            let res = match &mut self.src {
                Source::Stream(r) => r.read(&mut self.buf),
                Source::Seekable { inner, .. } => inner.read(&mut self.buf),
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

    pub(super) fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.pos += 1;
            self.offset = self.offset.saturating_add(1);
        }
        Ok(b)
    }

    /// Append up to `n` bytes to `out`; returns how many were appended (fewer at EOF).
    /// Callers bound `n` themselves (by `Limits::max_string` or a format constant).
    pub(super) fn read_into(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<usize> {
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
        let mut v = Vec::with_capacity(N);
        if self.read_into(N, &mut v)? < N {
            return Ok(None);
        }
        Ok(v.try_into().ok())
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
