//! How the parser process hands what it reads to the service: a compact binary stream of
//! frames on its standard output (a million rows of nine cells are about 150 MB of it, which
//! a pipe carries in a fraction of the parse's time). The service decodes it with bounds of
//! its own, so even a parser gone wrong cannot make it allocate without limit.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;

use chrono::{Datelike, NaiveDate};

use super::file_error::FileError;
use super::limits::FileLimits;
use super::read::{Cell, Format, RowSink};

const FORMAT: u8 = b'F';
const SHEET: u8 = b'S';
const ROW: u8 = b'R';
const END_SHEET: u8 = b'E';
const FAILED: u8 = b'X';
const DONE: u8 = b'D';

/// The longest sheet name or error report a frame may carry.
const MAX_TEXT_FRAME: usize = 64 * 1024;

fn format_code(f: Format) -> u8 {
    match f {
        Format::Xlsx => 0,
        Format::Xlsb => 1,
        Format::Xls => 2,
        Format::Ods => 3,
        Format::Csv => 4,
    }
}

fn format_of(code: u8) -> Option<Format> {
    Some(match code {
        0 => Format::Xlsx,
        1 => Format::Xlsb,
        2 => Format::Xls,
        3 => Format::Ods,
        4 => Format::Csv,
        _ => return None,
    })
}

/// Writes frames: the parser process's side.
pub struct Encoder<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> Encoder<W> {
    /// Frames onto `out`.
    pub fn new(out: W) -> Encoder<W> {
        Encoder { out, error: None }
    }

    /// The file's format, first.
    pub fn format(&mut self, f: Format) -> io::Result<()> {
        self.out.write_all(&[FORMAT, format_code(f)])
    }

    /// The last frame: the file was read whole, or why not.
    pub fn finish(mut self, outcome: Result<(), FileError>) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match outcome {
            Ok(()) => self.out.write_all(&[DONE])?,
            Err(e) => {
                let json = serde_json::to_vec(&e).map_err(io::Error::other)?;
                self.out.write_all(&[FAILED])?;
                self.bytes(&json[..json.len().min(MAX_TEXT_FRAME)])?;
            }
        }
        self.out.flush()
    }

    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(&(b.len() as u32).to_le_bytes())?;
        self.out.write_all(b)
    }

    fn cell(&mut self, c: &Cell) -> io::Result<()> {
        match c {
            Cell::Empty => self.out.write_all(&[0]),
            Cell::Text(s) => {
                self.out.write_all(&[1])?;
                self.bytes(s.as_bytes())
            }
            Cell::Int(i) => {
                self.out.write_all(&[2])?;
                self.out.write_all(&i.to_le_bytes())
            }
            Cell::Float(f) => {
                self.out.write_all(&[3])?;
                self.out.write_all(&f.to_bits().to_le_bytes())
            }
            Cell::Date(d) => {
                self.out.write_all(&[4])?;
                self.out.write_all(&d.num_days_from_ce().to_le_bytes())
            }
            Cell::Bool(b) => self.out.write_all(&[5, u8::from(*b)]),
            Cell::Error(s) => {
                self.out.write_all(&[6])?;
                self.bytes(s.as_bytes())
            }
        }
    }

    fn keep(&mut self, r: io::Result<()>) -> ControlFlow<()> {
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                // The service stopped listening (it had what it needed, or it is gone).
                self.error.get_or_insert(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl<W: Write> RowSink for Encoder<W> {
    fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
        let name = &name.as_bytes()[..name.len().min(MAX_TEXT_FRAME)];
        let r = self
            .out
            .write_all(&[SHEET])
            .and_then(|()| self.bytes(name))
            .and_then(|()| self.out.write_all(&approx_rows.to_le_bytes()));
        let _ = self.keep(r);
    }

    fn row(&mut self, index: u32, cells: &[Cell]) -> ControlFlow<()> {
        if self.error.is_some() {
            return ControlFlow::Break(());
        }
        let mut r = self.out.write_all(&[ROW]);
        r = r.and_then(|()| self.out.write_all(&index.to_le_bytes()));
        r = r.and_then(|()| self.out.write_all(&(cells.len() as u32).to_le_bytes()));
        for c in cells {
            r = r.and_then(|()| self.cell(c));
        }
        self.keep(r)
    }

    fn end_sheet(&mut self) {
        let r = self.out.write_all(&[END_SHEET]);
        let _ = self.keep(r);
    }
}

/// How a stream of frames ended.
#[derive(Debug, PartialEq)]
pub enum Ending {
    /// The parser read the whole file.
    Done,
    /// The parser found the file unreadable, and why.
    Failed(FileError),
    /// The sink had enough.
    Stopped,
    /// The stream ended without a last frame: the parser died.
    Cut,
}

/// Why a stream could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The pipe failed.
    #[error("reading the parser's output: {0}")]
    Io(#[from] io::Error),
    /// A frame out of its bounds or of no known kind.
    #[error("the parser's output is malformed: {0}")]
    Malformed(&'static str),
}

/// Reads frames: the service's side. Every length is checked against `limits` before
/// anything is allocated for it.
pub struct Decoder<'a, R: Read> {
    input: R,
    limits: &'a FileLimits,
    cells: Vec<Cell>,
}

impl<'a, R: Read> Decoder<'a, R> {
    /// Frames from `input`, which the parser wrote within `limits`.
    pub fn new(input: R, limits: &'a FileLimits) -> Decoder<'a, R> {
        Decoder {
            input,
            limits,
            cells: Vec::new(),
        }
    }

    /// The format frame that opens the stream; `Err(Ending)` when the stream ended instead.
    pub fn format(&mut self) -> Result<Result<Format, Ending>, WireError> {
        match self.tag()? {
            Some(FORMAT) => {
                let code = self.u8()?;
                format_of(code)
                    .map(Ok)
                    .ok_or(WireError::Malformed("unknown format"))
            }
            Some(FAILED) => Ok(Err(Ending::Failed(self.failure()?))),
            None => Ok(Err(Ending::Cut)),
            Some(_) => Err(WireError::Malformed("no format frame")),
        }
    }

    /// Replays every sheet and row into `sink` until the last frame.
    pub fn replay(&mut self, sink: &mut dyn RowSink) -> Result<Ending, WireError> {
        loop {
            match self.tag()? {
                None => return Ok(Ending::Cut),
                Some(SHEET) => {
                    let name = self.text(MAX_TEXT_FRAME)?;
                    let approx = self.u64()?;
                    sink.begin_sheet(&name, approx);
                }
                Some(ROW) => {
                    let index = self.u32()?;
                    let n = self.u32()? as u64;
                    if n > self.limits.max_columns {
                        return Err(WireError::Malformed("a row wider than the limit"));
                    }
                    let mut cells = std::mem::take(&mut self.cells);
                    cells.clear();
                    for _ in 0..n {
                        cells.push(self.cell()?);
                    }
                    let flow = sink.row(index, &cells);
                    self.cells = cells;
                    if flow.is_break() {
                        return Ok(Ending::Stopped);
                    }
                }
                Some(END_SHEET) => sink.end_sheet(),
                Some(DONE) => return Ok(Ending::Done),
                Some(FAILED) => return Ok(Ending::Failed(self.failure()?)),
                Some(_) => return Err(WireError::Malformed("unknown frame")),
            }
        }
    }

    fn failure(&mut self) -> Result<FileError, WireError> {
        let json = self.text(MAX_TEXT_FRAME)?;
        serde_json::from_str(&json).map_err(|_| WireError::Malformed("unreadable error report"))
    }

    fn tag(&mut self) -> Result<Option<u8>, WireError> {
        let mut b = [0u8; 1];
        match self.input.read_exact(&mut b) {
            Ok(()) => Ok(Some(b[0])),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut b = [0u8; N];
        self.input.read_exact(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn text(&mut self, max: usize) -> Result<String, WireError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(WireError::Malformed("a text longer than the limit"));
        }
        let mut b = vec![0u8; len];
        self.input.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| WireError::Malformed("text that is not UTF-8"))
    }

    fn cell(&mut self) -> Result<Cell, WireError> {
        // UTF-8 takes at most four bytes a character.
        let max_text =
            usize::try_from(self.limits.max_cell_chars.saturating_mul(4)).unwrap_or(usize::MAX);
        Ok(match self.u8()? {
            0 => Cell::Empty,
            1 => Cell::Text(self.text(max_text)?),
            2 => Cell::Int(i64::from_le_bytes(self.array()?)),
            3 => Cell::Float(f64::from_bits(u64::from_le_bytes(self.array()?))),
            4 => {
                let days = i32::from_le_bytes(self.array()?);
                Cell::Date(
                    NaiveDate::from_num_days_from_ce_opt(days)
                        .ok_or(WireError::Malformed("a date"))?,
                )
            }
            5 => Cell::Bool(self.u8()? != 0),
            6 => Cell::Error(self.text(max_text)?),
            _ => return Err(WireError::Malformed("unknown cell kind")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Record(Vec<String>);

    impl RowSink for Record {
        fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
            self.0.push(format!("sheet {name} {approx_rows}"));
        }
        fn row(&mut self, index: u32, cells: &[Cell]) -> ControlFlow<()> {
            self.0.push(format!("row {index} {cells:?}"));
            ControlFlow::Continue(())
        }
        fn end_sheet(&mut self) {
            self.0.push("end".into());
        }
    }

    fn every_cell() -> Vec<Cell> {
        vec![
            Cell::Empty,
            Cell::Text("买买提·吐尔逊".into()),
            Cell::Int(-42),
            Cell::Float(2020.1),
            Cell::Date(NaiveDate::from_ymd_opt(2020, 6, 1).unwrap()),
            Cell::Bool(true),
            Cell::Error("#N/A".into()),
        ]
    }

    #[test]
    fn frames_carry_every_cell_kind_through() {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out);
        enc.format(Format::Xls).unwrap();
        let mut direct = Record::default();
        for sink in [&mut enc as &mut dyn RowSink, &mut direct] {
            sink.begin_sheet("乡镇一", 3);
            assert!(sink.row(7, &every_cell()).is_continue());
            sink.end_sheet();
        }
        enc.finish(Ok(())).unwrap();

        let limits = FileLimits::default();
        let mut dec = Decoder::new(&out[..], &limits);
        assert_eq!(dec.format().unwrap(), Ok(Format::Xls));
        let mut replayed = Record::default();
        assert_eq!(dec.replay(&mut replayed).unwrap(), Ending::Done);
        assert_eq!(replayed, direct);
    }

    #[test]
    fn a_failure_and_a_cut_stream_are_told_apart() {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out);
        enc.format(Format::Csv).unwrap();
        enc.finish(Err(FileError::TooManyCells { limit: 9 }))
            .unwrap();
        let limits = FileLimits::default();
        let mut dec = Decoder::new(&out[..], &limits);
        dec.format().unwrap().unwrap();
        assert_eq!(
            dec.replay(&mut Record::default()).unwrap(),
            Ending::Failed(FileError::TooManyCells { limit: 9 })
        );
        let mut dec = Decoder::new(&out[..2], &limits);
        dec.format().unwrap().unwrap();
        assert_eq!(dec.replay(&mut Record::default()).unwrap(), Ending::Cut);
    }

    #[test]
    fn lengths_beyond_the_limits_are_refused_before_allocating() {
        let limits = FileLimits {
            max_columns: 2,
            ..FileLimits::default()
        };
        let mut wide = vec![FORMAT, 4, ROW];
        wide.extend(0u32.to_le_bytes());
        wide.extend(u32::MAX.to_le_bytes());
        let mut dec = Decoder::new(&wide[..], &limits);
        dec.format().unwrap().unwrap();
        assert!(matches!(
            dec.replay(&mut Record::default()),
            Err(WireError::Malformed(_))
        ));
        let mut long = vec![FORMAT, 4, SHEET];
        long.extend(u32::MAX.to_le_bytes());
        let mut dec = Decoder::new(&long[..], &limits);
        dec.format().unwrap().unwrap();
        assert!(matches!(
            dec.replay(&mut Record::default()),
            Err(WireError::Malformed(_))
        ));
    }
}
