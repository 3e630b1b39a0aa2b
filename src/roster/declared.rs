//! What a file says about itself, checked before the reader allocates anything from it: the
//! format (from the content, not the name), the sizes in a workbook's zip directory, the
//! number of sheets, the shared-string count an .xlsx declares (calamine reserves that many
//! strings up front) and the dimensions an .xls declares for each sheet (calamine reserves
//! rows × columns cells up front: a 5 KB file claiming four billion rows took the process down).

use std::io::{Cursor, Read};

use super::file_error::FileError;
use super::limits::FileLimits;
use super::read::Format;

const MIB: u64 = 1024 * 1024;

/// Tells the format from the bytes and checks what the file declares against `limits`.
pub fn inspect(bytes: &[u8], file_name: &str, limits: &FileLimits) -> Result<Format, FileError> {
    match sniff(bytes, file_name)? {
        Sniffed::Zip => inspect_zip(bytes, limits),
        Sniffed::Ole => {
            inspect_xls(bytes, limits)?;
            Ok(Format::Xls)
        }
        Sniffed::Csv => Ok(Format::Csv),
    }
}

enum Sniffed {
    Zip,
    Ole,
    Csv,
}

/// The container kind from the magic bytes; the name only separates text from a damaged
/// workbook.
fn sniff(bytes: &[u8], file_name: &str) -> Result<Sniffed, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let lower = file_name.to_ascii_lowercase();
    let claims_workbook = [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(Sniffed::Zip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE container: an .xls, or an encrypted .xlsx (which Excel wraps this way).
        if contains(bytes, &utf16("EncryptedPackage")) {
            return Err(FileError::PasswordProtected);
        }
        let window = &bytes[..bytes.len().min(64 * 1024)];
        if contains(window, &utf16("EncryptionInfo")) {
            return Err(FileError::PasswordProtected);
        }
        return Ok(Sniffed::Ole);
    }
    let looks_binary = bytes.iter().take(8192).any(|b| *b == 0);
    if looks_binary {
        return Err(if claims_workbook {
            FileError::Corrupt("unknown binary content".into())
        } else {
            FileError::NotASpreadsheet
        });
    }
    if claims_workbook && !lower.ends_with(".csv") {
        // A text file named .xlsx: say so rather than reading it as CSV.
        return Err(FileError::NotASpreadsheet);
    }
    Ok(Sniffed::Csv)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// .xlsx, .xlsb and .ods: the zip directory's sizes, the sheets, the shared strings.
fn inspect_zip(bytes: &[u8], limits: &FileLimits) -> Result<Format, FileError> {
    let corrupt = |e: zip::result::ZipError| FileError::Corrupt(e.to_string());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    let mut total: u64 = 0;
    let mut sheets: u64 = 0;
    let (mut workbook, mut workbook_bin, mut ods) = (false, false, false);
    let mut shared_strings = None;
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(corrupt)?;
        total = total.saturating_add(f.size());
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        match name.as_str() {
            "xl/workbook.xml" => workbook = true,
            "xl/workbook.bin" => workbook_bin = true,
            "content.xml" => ods = true,
            "xl/sharedStrings.xml" => shared_strings = Some(f.size()),
            n if n.starts_with("xl/worksheets/") && !n[14..].contains('/') => sheets += 1,
            _ => {}
        }
    }
    if total > limits.max_unpacked_bytes {
        return Err(FileError::TooLargeUnpacked(total / MIB));
    }
    if sheets > limits.max_sheets {
        return Err(FileError::TooManySheets {
            count: sheets,
            limit: limits.max_sheets,
        });
    }
    if let Some(size) = shared_strings {
        if size > limits.max_shared_strings_bytes {
            return Err(FileError::TooLargeUnpacked(size / MIB));
        }
        if workbook {
            check_shared_string_count(&mut zip, limits)?;
        }
    }
    if workbook {
        Ok(Format::Xlsx)
    } else if workbook_bin {
        Ok(Format::Xlsb)
    } else if ods {
        Ok(Format::Ods)
    } else {
        Err(FileError::NotASpreadsheet)
    }
}

/// The `uniqueCount` (or `count`) of an .xlsx's shared-string table, from the first few KiB of
/// the part, before the reader reserves room for that many strings.
fn check_shared_string_count(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &FileLimits,
) -> Result<(), FileError> {
    let mut head = Vec::with_capacity(4096);
    zip.by_name("xl/sharedStrings.xml")
        .map_err(|e| FileError::Corrupt(e.to_string()))?
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| FileError::Corrupt(e.to_string()))?;
    let text = String::from_utf8_lossy(&head);
    let Some(start) = text.find("<sst") else {
        return Ok(());
    };
    let tag = &text[start..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    for attr in ["uniqueCount", "count"] {
        if let Some(n) = attribute(tag, attr)
            && n > limits.max_shared_strings
        {
            return Err(FileError::TooManySharedStrings {
                count: n,
                limit: limits.max_shared_strings,
            });
        }
    }
    Ok(())
}

/// A whole-number attribute of an XML start tag; a number too large for u64 reads as u64::MAX.
fn attribute(tag: &str, name: &str) -> Option<u64> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + name.len()..];
        rest = after;
        if before.is_some_and(|c| !c.is_whitespace()) {
            continue;
        }
        let Some(value) = after.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next()?;
        let digits: String = value[1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !matches!(quote, '"' | '\'') || digits.is_empty() {
            return None;
        }
        return Some(digits.parse().unwrap_or(u64::MAX));
    }
    None
}

/// .xls: walks the BIFF records of the workbook stream for the sheet count, the shared-string
/// count and every sheet's declared dimensions.
fn inspect_xls(bytes: &[u8], limits: &FileLimits) -> Result<(), FileError> {
    let corrupt = |e: std::io::Error| FileError::Corrupt(e.to_string());
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(corrupt)?;
    let stream = if cfb.exists("/Workbook") {
        "/Workbook"
    } else if cfb.exists("/Book") {
        "/Book"
    } else {
        return Err(FileError::NotASpreadsheet);
    };
    let mut data = Vec::new();
    cfb.open_stream(stream)
        .map_err(corrupt)?
        .read_to_end(&mut data)
        .map_err(corrupt)?;
    let mut sheets: Vec<String> = Vec::new();
    let mut dims_seen: usize = 0;
    let mut pos = 0usize;
    while pos + 4 <= data.len() {
        let typ = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = usize::from(u16::from_le_bytes([data[pos + 2], data[pos + 3]]));
        let body = &data[pos + 4..(pos + 4 + len).min(data.len())];
        pos += 4 + len;
        match typ {
            // BoundSheet8: one per sheet, in the workbook's globals.
            0x0085 => {
                sheets.push(sheet_name(body));
                if sheets.len() as u64 > limits.max_sheets {
                    return Err(FileError::TooManySheets {
                        count: sheets.len() as u64,
                        limit: limits.max_sheets,
                    });
                }
            }
            // SST: cstTotal, cstUnique.
            0x00FC if body.len() >= 8 => {
                let unique = u64::from(u32::from_le_bytes([body[4], body[5], body[6], body[7]]));
                if unique > limits.max_shared_strings {
                    return Err(FileError::TooManySharedStrings {
                        count: unique,
                        limit: limits.max_shared_strings,
                    });
                }
            }
            // Dimensions: the reader reserves room for every cell they span.
            0x0200 => {
                dims_seen += 1;
                let cells = declared_cells(body);
                if cells > limits.max_sheet_cells {
                    // Sheets' records follow the workbook's list in its order.
                    return Err(FileError::SheetTooLarge {
                        sheet: sheets
                            .get(dims_seen - 1)
                            .cloned()
                            .unwrap_or_else(|| dims_seen.to_string()),
                        cells,
                        limit: limits.max_sheet_cells,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The name in a BoundSheet8 record: a short string of 8-bit or UTF-16 characters.
fn sheet_name(body: &[u8]) -> String {
    let Some(&count) = body.get(6) else {
        return String::new();
    };
    let wide = body.get(7).is_some_and(|f| f & 1 == 1);
    let chars = body.get(8..).unwrap_or_default();
    if wide {
        let units: Vec<u16> = chars
            .chunks_exact(2)
            .take(usize::from(count))
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        chars
            .iter()
            .take(usize::from(count))
            .map(|&b| char::from(b))
            .collect()
    }
}

/// Rows × columns of a Dimensions record, as the reader will compute them; a record whose
/// last row comes before its first counts as unbounded (the reader's subtraction would wrap).
fn declared_cells(r: &[u8]) -> u64 {
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([r[i], r[i + 1]]));
    let u32_at = |i: usize| u64::from(u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]));
    let (first_row, last_row_plus_1, mut first_col, last_col_plus_1) = match r.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        // The reader refuses any other length.
        _ => return 0,
    };
    if first_col > 0xFF || last_col_plus_1 < first_col {
        first_col = 0;
    }
    if last_row_plus_1 == 0 || last_col_plus_1 == 0 {
        return 1;
    }
    if last_row_plus_1 - 1 < first_row {
        return u64::MAX;
    }
    (last_row_plus_1 - first_row).saturating_mul(last_col_plus_1 - first_col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect_default(bytes: &[u8], name: &str) -> Result<Format, FileError> {
        inspect(bytes, name, &FileLimits::default())
    }

    #[test]
    fn formats_come_from_the_content() {
        assert_eq!(inspect_default(b"", "a.xlsx"), Err(FileError::Empty));
        assert_eq!(
            inspect_default("身份证号码,姓名\n".as_bytes(), "a.csv"),
            Ok(Format::Csv)
        );
        assert_eq!(
            inspect_default("身份证号码,姓名\n".as_bytes(), "roster"),
            Ok(Format::Csv)
        );
        assert_eq!(
            inspect_default(b"hello", "a.xlsx"),
            Err(FileError::NotASpreadsheet)
        );
        assert!(matches!(
            inspect_default(b"PK\x03\x04garbage", "a.xlsx"),
            Err(FileError::Corrupt(_))
        ));
        assert_eq!(
            inspect_default(b"\x00\x01\x02binary", "a.bin"),
            Err(FileError::NotASpreadsheet)
        );
    }

    #[test]
    fn attributes_are_read_as_written_and_huge_ones_saturate() {
        let tag = r#"<sst xmlns="x" count="12" uniqueCount='99999999999999999999999'"#;
        assert_eq!(attribute(tag, "count"), Some(12));
        assert_eq!(attribute(tag, "uniqueCount"), Some(u64::MAX));
        assert_eq!(attribute(tag, "missing"), None);
    }

    #[test]
    fn dimensions_count_cells_as_the_reader_would() {
        let biff8 = |r0: u32, r1: u32, c0: u16, c1: u16| {
            let mut v = Vec::new();
            v.extend(r0.to_le_bytes());
            v.extend(r1.to_le_bytes());
            v.extend(c0.to_le_bytes());
            v.extend(c1.to_le_bytes());
            v.extend([0, 0]);
            v
        };
        assert_eq!(declared_cells(&biff8(0, 10, 0, 3)), 30);
        assert_eq!(
            declared_cells(&biff8(0, u32::MAX, 0, 0xFFFF)),
            u64::from(u32::MAX) * 0xFFFF
        );
        assert_eq!(declared_cells(&biff8(20, 10, 0, 3)), u64::MAX);
        assert_eq!(declared_cells(&biff8(0, 0, 0, 0)), 1);
    }
}
