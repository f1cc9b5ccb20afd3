//! Splitting a byte stream into lines, the way Kafka's `FileStreamSourceTask` does.
//!
//! A line ends at `\n`, `\r\n` or a lone `\r`. Bytes after the last terminator stay buffered until
//! their terminator arrives, so a line being written is never emitted half-way. A `\r` at the very
//! end of the buffer is held back too: only the next byte tells whether it ends a `\r\n`.
//!
//! Invariants: `start <= searched <= pending.len()`; `pending[..start]` belongs to lines already
//! returned; `pending[start..searched]` holds no terminator that could end a line.

use std::borrow::Cow;
use std::io::{self, Read};

/// The most bytes read from a file in one call; bounds the memory one read can add.
const READ_CHUNK: u64 = 64 * 1024;

/// Bytes read but not yet returned as lines.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    pending: Vec<u8>,
    /// Start of the first line not yet returned.
    start: usize,
    /// Where the search for the next terminator resumes, so a long partial line is not rescanned.
    searched: usize,
}

impl LineBuffer {
    /// Appends bytes read elsewhere (stdin).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.compact();
        self.pending.extend_from_slice(bytes);
    }

    /// Reads the next chunk of `reader` into the buffer; `Ok(0)` at end of input.
    pub(crate) fn read_from(&mut self, reader: &mut impl Read) -> io::Result<usize> {
        self.compact();
        // `read_to_end` on a `Take` fills spare capacity without zeroing it first, and for a file
        // it returns as soon as the current end of the file is reached.
        reader.take(READ_CHUNK).read_to_end(&mut self.pending)
    }

    /// The next complete line (without its terminator, invalid UTF-8 replaced as Java's decoder
    /// does) and the number of bytes it took, terminator included. The text borrows the buffer
    /// when it is valid UTF-8, so the caller copies it once, straight into the record.
    pub(crate) fn next_line(&mut self) -> Option<(Cow<'_, str>, u64)> {
        let found = memchr::memchr2(b'\n', b'\r', &self.pending[self.searched..]);
        let Some(relative) = found else {
            self.searched = self.pending.len();
            return None;
        };
        let end = self.searched + relative;
        let terminator_len = if self.pending[end] == b'\r' {
            match self.pending.get(end + 1) {
                None => {
                    self.searched = end;
                    return None;
                }
                Some(b'\n') => 2,
                Some(_) => 1,
            }
        } else {
            1
        };
        let line_start = self.start;
        let next_start = end + terminator_len;
        let consumed = (next_start - line_start) as u64;
        self.start = next_start;
        self.searched = next_start;
        let bytes = &self.pending[line_start..end];
        // `from_utf8` checks ASCII a word at a time; the lossy decoder is kept for invalid input.
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        Some((text, consumed))
    }

    /// Drops everything buffered, e.g. the partial line of a file that was truncated.
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
        self.start = 0;
        self.searched = 0;
    }

    /// How many bytes wait for their line terminator.
    pub(crate) fn buffered(&self) -> usize {
        self.pending.len() - self.start
    }

    /// Moves the unreturned bytes to the front so the buffer does not grow with returned lines.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.pending.drain(..self.start);
        self.searched -= self.start;
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(buffer: &mut LineBuffer) -> Vec<(String, u64)> {
        std::iter::from_fn(|| {
            buffer
                .next_line()
                .map(|(text, length)| (text.into_owned(), length))
        })
        .collect()
    }

    #[test]
    fn splits_on_lf_crlf_and_lone_cr() {
        let mut buffer = LineBuffer::default();
        buffer.push(b"a\nbb\r\nccc\rdddd\n");
        assert_eq!(
            lines_of(&mut buffer),
            vec![
                ("a".to_string(), 2),
                ("bb".to_string(), 4),
                ("ccc".to_string(), 4),
                ("dddd".to_string(), 5)
            ]
        );
        assert_eq!(buffer.buffered(), 0);
    }

    #[test]
    fn holds_back_partial_line_and_trailing_cr() {
        let mut buffer = LineBuffer::default();
        buffer.push(b"one\ntw");
        assert_eq!(lines_of(&mut buffer), vec![("one".to_string(), 4)]);
        buffer.push(b"o\r");
        assert_eq!(lines_of(&mut buffer), vec![]);
        assert_eq!(buffer.buffered(), 4);
        buffer.push(b"\nthree");
        assert_eq!(lines_of(&mut buffer), vec![("two".to_string(), 5)]);
        assert_eq!(buffer.buffered(), 5);
    }

    #[test]
    fn empty_lines_and_invalid_utf8_are_lines_too() {
        let mut buffer = LineBuffer::default();
        buffer.push(b"\n\xff\xfe\n");
        assert_eq!(
            lines_of(&mut buffer),
            vec![(String::new(), 1), ("\u{fffd}\u{fffd}".to_string(), 3)]
        );
    }

    #[test]
    fn reads_from_a_reader_and_clears() {
        let mut buffer = LineBuffer::default();
        let mut input: &[u8] = b"x\ny";
        assert_eq!(buffer.read_from(&mut input).unwrap(), 3);
        assert_eq!(buffer.read_from(&mut input).unwrap(), 0);
        assert_eq!(lines_of(&mut buffer), vec![("x".to_string(), 2)]);
        buffer.clear();
        assert_eq!(buffer.buffered(), 0);
        buffer.push(b"z\n");
        assert_eq!(lines_of(&mut buffer), vec![("z".to_string(), 2)]);
    }
}
