//! Bank file layouts as data (`layouts/*.toml`): which fields, in which order, in which
//! encoding, with which separator, and the header and trailer lines with the count and total.
//! Rendering a batch through a layout is pure: the same lines and date give the same bytes,
//! so a file's SHA-256 identifies it. How to write a layout: docs/payments.md.

use serde::Deserialize;

use crate::domain::Money;

/// The layouts shipped with the service.
const SHIPPED: [&str; 3] = [
    include_str!("../../layouts/fixed_gbk.toml"),
    include_str!("../../layouts/delimited_utf8.toml"),
    include_str!("../../layouts/xlsx.toml"),
];

/// A layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Its name, as `?layout=` gives it.
    pub name: String,
    /// What finance reads in the list of layouts.
    pub title: String,
    /// A text file or a workbook.
    pub kind: FileKind,
    /// The text file's encoding.
    #[serde(default)]
    pub encoding: Encoding,
    /// Between fields; empty for fixed widths.
    #[serde(default)]
    pub separator: String,
    /// The end of each line.
    #[serde(default)]
    pub line_end: LineEnd,
    /// The first line (text files).
    #[serde(default)]
    pub header: Vec<Column>,
    /// One line per payment.
    pub line: Vec<Column>,
    /// The last line (text files).
    #[serde(default)]
    pub trailer: Vec<Column>,
    /// How the bank's return file (回盘) in this layout reads; none: the bank sends none.
    #[serde(default)]
    pub returns: Option<ReturnLayout>,
}

/// The bank's return file: the same encoding, separator and kind as the file sent, its own
/// header, line and trailer fields, and the result codes that mean paid and refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLayout {
    /// The first line (text files): the batch number, the count and total are checked.
    #[serde(default)]
    pub header: Vec<Column>,
    /// One line per payment; in a workbook, the columns are found by their titles.
    pub line: Vec<Column>,
    /// The last line (text files): the count and total are checked.
    #[serde(default)]
    pub trailer: Vec<Column>,
    /// The `result` codes that mean the money reached the account.
    pub paid: Vec<String>,
    /// The `result` codes that mean the bank refused it.
    pub failed: Vec<String>,
}

/// A text file or a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Lines of text.
    Text,
    /// An .xlsx workbook.
    Xlsx,
}

/// The encodings banks take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Encoding {
    /// GBK (GB 2312 and more), what most Chinese banks' interfaces read.
    #[serde(rename = "gbk")]
    Gbk,
    /// UTF-8 without a byte-order mark.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
}

/// The end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnd {
    /// `\r\n`.
    #[default]
    Crlf,
    /// `\n`.
    Lf,
}

/// One field of a line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// What it holds.
    pub field: Field,
    /// The text of a `literal`.
    #[serde(default)]
    pub value: String,
    /// The column's title in a workbook.
    #[serde(default)]
    pub title: String,
    /// Width in bytes of the encoding (fixed-width files); none: as long as the value.
    pub width: Option<usize>,
    /// Where the value sits in its width.
    #[serde(default)]
    pub align: Align,
    /// What fills the rest of the width: a space or a zero.
    pub pad: Option<char>,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The text in `value`.
    Literal,
    /// The batch number.
    BatchNo,
    /// The date of the file, `YYYYMMDD`.
    Date,
    /// The number of lines.
    Count,
    /// The total in yuan, `1234.50`.
    Total,
    /// The total in fen.
    TotalFen,
    /// The line's reference: the bank's return file names it.
    LineId,
    /// The account holder.
    PayeeName,
    /// The account number, in full.
    AccountNo,
    /// 开户行.
    BankName,
    /// The amount in yuan, `1234.50`.
    Amount,
    /// The amount in fen.
    AmountFen,
    /// Return files: the bank's result code (`paid` and `failed` of the layout say which).
    Result,
    /// Return files: the bank's serial of the payment.
    BankSerial,
    /// Return files: the day the bank paid or refused, `YYYYMMDD` or `YYYY-MM-DD`.
    SettledOn,
    /// Return files: why the bank refused.
    Reason,
    /// Return files: a field that is read past and not used.
    Ignore,
}

impl Field {
    /// What a clerk calls the field.
    pub fn label(self, lang: crate::domain::Lang) -> &'static str {
        match self {
            Field::Literal => lang.pick("固定内容", "fixed text"),
            Field::BatchNo => lang.pick("批次号", "batch number"),
            Field::Date => lang.pick("日期", "date"),
            Field::Count => lang.pick("笔数", "count"),
            Field::Total => lang.pick("总金额", "total"),
            Field::TotalFen => lang.pick("总金额（分）", "total in fen"),
            Field::LineId => lang.pick("付款参考号", "line reference"),
            Field::PayeeName => lang.pick("收款人", "payee"),
            Field::AccountNo => lang.pick("收款账号", "account number"),
            Field::BankName => lang.pick("开户行", "bank"),
            Field::Amount => lang.pick("金额", "amount"),
            Field::AmountFen => lang.pick("金额（分）", "amount in fen"),
            Field::Result => lang.pick("处理结果", "result"),
            Field::BankSerial => lang.pick("银行流水号", "bank serial"),
            Field::SettledOn => lang.pick("入账日期", "settlement date"),
            Field::Reason => lang.pick("失败原因", "reason"),
            Field::Ignore => lang.pick("其他", "other"),
        }
    }
}

/// Where a value sits in its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// Text: padded on the right.
    #[default]
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// The batch-wide values a file carries.
#[derive(Debug, Clone)]
pub struct Totals<'a> {
    /// The batch number.
    pub batch_no: &'a str,
    /// `YYYYMMDD`.
    pub date: String,
    /// Lines.
    pub count: i64,
    /// Total in fen.
    pub total_fen: i64,
}

/// One payment as a file shows it.
#[derive(Debug, Clone)]
pub struct Payment<'a> {
    /// The line's id.
    pub line_id: i64,
    /// The account holder.
    pub payee_name: &'a str,
    /// The account number.
    pub account_no: &'a str,
    /// 开户行.
    pub bank_name: &'a str,
    /// In fen.
    pub amount_fen: i64,
}

/// Why a file could not be written; nothing is cut short to make it fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A value is longer than its field.
    #[error("line {line}: the {field:?} value takes {len} bytes, its field {width}")]
    TooLong {
        /// 0 for the header, the line's id for a payment, -1 for the trailer.
        line: i64,
        /// Which field.
        field: Field,
        /// Bytes the value takes.
        len: usize,
        /// Bytes the field has.
        width: usize,
    },
    /// A character the encoding cannot write (GBK has no such character).
    #[error("line {line}: {field:?} holds a character {encoding:?} cannot write")]
    Unencodable {
        /// As above.
        line: i64,
        /// Which field.
        field: Field,
        /// The encoding.
        encoding: Encoding,
    },
    /// The separator appears inside a value, which would shift every later field.
    #[error("line {line}: {field:?} holds the separator")]
    HoldsSeparator {
        /// As above.
        line: i64,
        /// Which field.
        field: Field,
    },
}

/// A branch's own layouts, read from `CANCER_AID_LAYOUT_DIR` once at start-up (see
/// `layout_dir`), before any layout is used.
static INSTALLED: std::sync::OnceLock<Vec<Layout>> = std::sync::OnceLock::new();

/// Adds a branch's own layouts to the shipped ones; refused once layouts are in use, or when
/// called twice with other layouts.
fn install(extra: Vec<Layout>) -> Result<(), String> {
    let names: Vec<String> = extra.iter().map(|l| l.name.clone()).collect();
    if INSTALLED.set(extra).is_err() {
        let had: Vec<&String> = INSTALLED
            .get()
            .into_iter()
            .flatten()
            .map(|l| &l.name)
            .collect();
        if had
            .iter()
            .map(|n| n.as_str())
            .ne(names.iter().map(String::as_str))
        {
            return Err("the layouts were read already".to_owned());
        }
    }
    Ok(())
}

/// Reads a branch's layouts from `dir` (checked, see `layout_check`) and adds them to the
/// shipped ones; answers what to change when one cannot be used.
pub fn install_dir(dir: &std::path::Path) -> Result<(), String> {
    let shipped: Vec<Layout> = SHIPPED
        .iter()
        .map(|text| toml::from_str(text).expect("a shipped layout reads"))
        .collect();
    let taken: Vec<&str> = shipped.iter().map(|l| l.name.as_str()).collect();
    let extra = super::layout_check::read_dir(dir, &taken)?;
    let names: Vec<&str> = extra.iter().map(|l| l.name.as_str()).collect();
    tracing::info!(
        "Bank file layouts of {}: {}",
        dir.display(),
        names.join(", ")
    );
    install(extra)
}

/// Every layout: the shipped ones, then the branch's own; read once.
pub fn all() -> &'static [Layout] {
    static LAYOUTS: std::sync::OnceLock<Vec<Layout>> = std::sync::OnceLock::new();
    LAYOUTS.get_or_init(|| {
        let mut all: Vec<Layout> = SHIPPED
            .iter()
            .map(|text| toml::from_str(text).expect("a shipped layout reads"))
            .collect();
        // Nothing can be installed after this: a later `install` is refused.
        let extra = INSTALLED.get_or_init(Vec::new);
        all.extend(extra.iter().cloned());
        all
    })
}

/// The layout of a name.
pub fn named(name: &str) -> Option<&'static Layout> {
    all().iter().find(|l| l.name == name)
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

impl Column {
    /// The value of the field for a payment, or for the file when `payment` is None.
    pub fn value(&self, totals: &Totals<'_>, payment: Option<&Payment<'_>>) -> String {
        match (self.field, payment) {
            (Field::Literal, _) => self.value.clone(),
            (Field::BatchNo, _) => totals.batch_no.to_owned(),
            (Field::Date, _) => totals.date.clone(),
            (Field::Count, _) => totals.count.to_string(),
            (Field::Total, _) => yuan(totals.total_fen),
            (Field::TotalFen, _) => totals.total_fen.to_string(),
            (Field::LineId, Some(p)) => p.line_id.to_string(),
            (Field::PayeeName, Some(p)) => p.payee_name.to_owned(),
            (Field::AccountNo, Some(p)) => p.account_no.to_owned(),
            (Field::BankName, Some(p)) => p.bank_name.to_owned(),
            (Field::Amount, Some(p)) => yuan(p.amount_fen),
            (Field::AmountFen, Some(p)) => p.amount_fen.to_string(),
            (
                Field::Result
                | Field::BankSerial
                | Field::SettledOn
                | Field::Reason
                | Field::Ignore,
                _,
            )
            | (_, None) => String::new(),
        }
    }
}

impl Layout {
    fn encode(&self, text: &str) -> Option<Vec<u8>> {
        match self.encoding {
            Encoding::Utf8 => Some(text.as_bytes().to_vec()),
            Encoding::Gbk => {
                let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
                (!unmappable).then(|| bytes.into_owned())
            }
        }
    }

    /// Text of the file's encoding; None for bytes it cannot hold.
    pub(super) fn decode(&self, bytes: &[u8]) -> Option<String> {
        match self.encoding {
            Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Encoding::Gbk => {
                let (text, bad) = encoding_rs::GBK.decode_without_bom_handling(bytes);
                (!bad).then(|| text.into_owned())
            }
        }
    }

    fn line_end(&self) -> &'static [u8] {
        match self.line_end {
            LineEnd::Crlf => b"\r\n",
            LineEnd::Lf => b"\n",
        }
    }

    /// One line of the file, encoded.
    fn render_line(
        &self,
        columns: &[Column],
        totals: &Totals<'_>,
        payment: Option<&Payment<'_>>,
        line: i64,
    ) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.separator.as_bytes());
            }
            let text = c.value(totals, payment);
            if !self.separator.is_empty() && text.contains(self.separator.as_str()) {
                return Err(RenderError::HoldsSeparator {
                    line,
                    field: c.field,
                });
            }
            let bytes = self.encode(&text).ok_or(RenderError::Unencodable {
                line,
                field: c.field,
                encoding: self.encoding,
            })?;
            let Some(width) = c.width else {
                out.extend_from_slice(&bytes);
                continue;
            };
            if bytes.len() > width {
                return Err(RenderError::TooLong {
                    line,
                    field: c.field,
                    len: bytes.len(),
                    width,
                });
            }
            let pad = c.pad.unwrap_or(' ').to_string().into_bytes();
            let fill: Vec<u8> = pad
                .iter()
                .copied()
                .cycle()
                .take(width - bytes.len())
                .collect();
            match c.align {
                Align::Left => {
                    out.extend_from_slice(&bytes);
                    out.extend_from_slice(&fill);
                }
                Align::Right => {
                    out.extend_from_slice(&fill);
                    out.extend_from_slice(&bytes);
                }
            }
        }
        out.extend_from_slice(self.line_end());
        Ok(out)
    }

    /// The file's first line, if the layout has one.
    pub fn header_line(&self, totals: &Totals<'_>) -> Result<Option<Vec<u8>>, RenderError> {
        (!self.header.is_empty())
            .then(|| self.render_line(&self.header, totals, None, 0))
            .transpose()
    }

    /// The line of one payment.
    pub fn payment_line(
        &self,
        totals: &Totals<'_>,
        p: &Payment<'_>,
    ) -> Result<Vec<u8>, RenderError> {
        self.render_line(&self.line, totals, Some(p), p.line_id)
    }

    /// The file's last line, if the layout has one.
    pub fn trailer_line(&self, totals: &Totals<'_>) -> Result<Option<Vec<u8>>, RenderError> {
        (!self.trailer.is_empty())
            .then(|| self.render_line(&self.trailer, totals, None, -1))
            .transpose()
    }

    /// The text file of a batch at once: header, one line per payment, trailer (the export
    /// writes the same lines a piece at a time).
    #[cfg(test)]
    pub(crate) fn render_text(
        &self,
        totals: &Totals<'_>,
        payments: &[Payment<'_>],
    ) -> Result<Vec<u8>, RenderError> {
        let mut out = self.header_line(totals)?.unwrap_or_default();
        for p in payments {
            out.extend(self.payment_line(totals, p)?);
        }
        out.extend(self.trailer_line(totals)?.unwrap_or_default());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals() -> Totals<'static> {
        Totals {
            batch_no: "PB20261207-00001",
            date: "20261207".to_owned(),
            count: 2,
            total_fen: 540_050,
        }
    }

    fn payments() -> Vec<Payment<'static>> {
        vec![
            Payment {
                line_id: 7,
                payee_name: "张三丰",
                account_no: "6222020200000000006",
                bank_name: "工商银行",
                amount_fen: 540_000,
            },
            Payment {
                line_id: 8,
                payee_name: "李四",
                account_no: "071001012345",
                bank_name: "农业银行",
                amount_fen: 50,
            },
        ]
    }

    #[test]
    fn the_shipped_layouts_read() {
        let names: Vec<&str> = all().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["fixed_gbk", "delimited_utf8", "xlsx"]);
    }

    #[test]
    fn a_fixed_gbk_file_has_its_widths_in_bytes_and_its_control_lines() {
        let layout = named("fixed_gbk").unwrap();
        let bytes = layout.render_text(&totals(), &payments()).unwrap();
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(!bad);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines.len(),
            5,
            "header, two payments, trailer, and the last line end"
        );
        assert_eq!(
            lines[0],
            "HPB20261207-00001    0000000200000000054005020261207"
        );
        // Every payment line is as long in bytes as the layout says: 1+12+32+40+15+20.
        let raw: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        for line in &raw[1..3] {
            assert_eq!(line.len(), 1 + 12 + 32 + 40 + 15 + 20 + 1, "{line:?}");
        }
        assert!(lines[1].starts_with("D0000000000076222020200000000006"));
        assert!(lines[1].contains("张三丰"));
        assert!(lines[1].contains("000000000540000"));
        assert_eq!(lines[3], "T00000002000000000540050");
    }

    #[test]
    fn nothing_is_cut_short_or_shifted() {
        let layout = named("fixed_gbk").unwrap();
        let mut long = payments();
        long[0].payee_name = "一二三四五六七八九十一二三四五六七八九十一"; // 42 bytes in GBK
        assert!(matches!(
            layout.render_text(&totals(), &long),
            Err(RenderError::TooLong {
                line: 7,
                field: Field::PayeeName,
                len: 42,
                width: 40
            })
        ));
        let mut odd = payments();
        odd[1].payee_name = "李四😀";
        assert!(matches!(
            layout.render_text(&totals(), &odd),
            Err(RenderError::Unencodable { line: 8, .. })
        ));
        let delimited = named("delimited_utf8").unwrap();
        let mut piped = payments();
        piped[0].bank_name = "工商|银行";
        assert!(matches!(
            delimited.render_text(&totals(), &piped),
            Err(RenderError::HoldsSeparator {
                line: 7,
                field: Field::BankName
            })
        ));
    }

    #[test]
    fn a_delimited_file_has_yuan_and_a_header() {
        let layout = named("delimited_utf8").unwrap();
        let text = String::from_utf8(layout.render_text(&totals(), &payments()).unwrap()).unwrap();
        assert_eq!(
            text,
            "PB20261207-00001|2|5400.50|20261207\n\
             7|张三丰|6222020200000000006|工商银行|5400.00|PB20261207-00001\n\
             8|李四|071001012345|农业银行|0.50|PB20261207-00001\n"
        );
    }
}
