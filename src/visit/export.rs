//! A patient's yearly statement as an .xlsx a caseworker can print or hand over.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use super::{Statement, cap_reason_label};
use crate::domain::Label;
use crate::domain::{Lang, Money};
use crate::export_safe::write_text;

/// Excel cells hold numbers as binary doubles whatever we do; yuan with two decimals are
/// exact enough there for display and for the sums a reader makes, and the stored fen stay
/// exact.
fn yuan(m: Money) -> f64 {
    m.fen() as f64 / 100.0
}

/// The statement in one sheet: who, the year's cap and what is left, then every visit.
///
/// Built in memory: one person's visits in one year. Names, hospitals, invoice numbers and
/// reasons are typed by people, so every text goes in inert ([`crate::export_safe`]); amounts
/// are numeric cells.
pub fn statement_xlsx(s: &Statement, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let label = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let money = Format::new().set_num_format("#,##0.00");
    let money_bold = Format::new().set_num_format("#,##0.00").set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("救助对账单", "Statement"))?;

    write_text(
        sheet,
        0,
        0,
        &match lang {
            Lang::Zh => format!("{} {}年度救助对账单", s.name, s.year),
            Lang::En => format!("Assistance statement {} for {}", s.year, s.name),
        },
        Some(&title),
    )?;
    let pairs: [(&str, String); 2] = [
        (lang.pick("公民身份号码", "ID number"), s.id_number.clone()),
        (lang.pick("行政区划代码", "Region"), s.region_code.clone()),
    ];
    for (i, (k, v)) in pairs.iter().enumerate() {
        write_text(sheet, 1, (i * 2) as u16, k, Some(&label))?;
        write_text(sheet, 1, (i * 2 + 1) as u16, v, Some(&text))?;
    }
    let figures: [(&str, Option<Money>); 3] = [
        (lang.pick("年度封顶（元）", "Annual cap"), s.annual_cap),
        (lang.pick("已救助（元）", "Granted"), Some(s.granted)),
        (lang.pick("剩余额度（元）", "Cap left"), s.cap_left),
    ];
    for (i, (k, v)) in figures.iter().enumerate() {
        let c = (i * 2) as u16;
        write_text(sheet, 2, c, k, Some(&label))?;
        match v {
            Some(m) => {
                sheet.write_number_with_format(2, c + 1, yuan(*m), &money)?;
            }
            None => write_text(sheet, 2, c + 1, lang.pick("无适用政策", "no policy"), None)?,
        };
    }

    let headers: [&str; 15] = if lang == Lang::Zh {
        [
            "编号",
            "医院",
            "类型",
            "入院日期",
            "出院日期",
            "门诊日期",
            "发票号",
            "总费用",
            "基本医保",
            "大病保险",
            "医疗救助",
            "个人自付",
            "救助金",
            "状态",
            "说明",
        ]
    } else {
        [
            "No.",
            "Hospital",
            "Kind",
            "Admitted",
            "Discharged",
            "Visit date",
            "Invoice",
            "Total cost",
            "Insurance",
            "Critical illness",
            "Medical assistance",
            "Out of pocket",
            "Subsidy",
            "Status",
            "Note",
        ]
    };
    let first = 4u32;
    for (c, h) in headers.iter().enumerate() {
        write_text(sheet, first, c as u16, h, Some(&head))?;
    }
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for (i, v) in s.visits.iter().enumerate() {
        let r = first + 1 + i as u32;
        sheet.write_number(r, 0, v.id as f64)?;
        write_text(sheet, r, 1, &v.hospital_name, None)?;
        let kind = v.kind.label(lang);
        write_text(sheet, r, 2, kind, None)?;
        write_text(sheet, r, 3, &date(v.admitted_on), None)?;
        write_text(sheet, r, 4, &date(v.discharged_on), None)?;
        write_text(sheet, r, 5, &date(v.visit_date), None)?;
        write_text(
            sheet,
            r,
            6,
            v.invoice_no.as_deref().unwrap_or(""),
            Some(&text),
        )?;
        for (c, m) in [
            v.total_cost,
            v.insurance_paid,
            v.critical_illness_paid,
            v.medical_assistance_paid,
            v.out_of_pocket,
            v.subsidy,
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_number_with_format(r, 7 + c as u16, yuan(m), &money)?;
        }
        let (status, note) = match v.reverses_visit_id {
            Some(of) => (
                lang.pick("冲销", "reversal").to_owned(),
                match lang {
                    Lang::Zh => {
                        format!("冲销 #{of}：{}", v.reversal_reason.as_deref().unwrap_or(""))
                    }
                    Lang::En => format!(
                        "reverses #{of}: {}",
                        v.reversal_reason.as_deref().unwrap_or("")
                    ),
                },
            ),
            None => {
                let st = v.status.label(lang);
                let note = match (&v.void_reason, v.reversed_by) {
                    (Some(why), _) => why.clone(),
                    (None, Some(by)) => match lang {
                        Lang::Zh => format!("已由 #{by} 冲销"),
                        Lang::En => format!("reversed by #{by}"),
                    },
                    (None, None) => cap_reason_label(v.cap_reason.as_deref(), lang).to_owned(),
                };
                (st.to_owned(), note)
            }
        };
        write_text(sheet, r, 13, &status, None)?;
        write_text(sheet, r, 14, &note, None)?;
    }
    let total_row = first + 1 + s.visits.len() as u32;
    write_text(
        sheet,
        total_row,
        0,
        lang.pick(
            "合计（不含作废，已扣冲销）",
            "Total (voided left out, net of reversals)",
        ),
        Some(&label),
    )?;
    sheet.write_number_with_format(total_row, 7, yuan(s.totals.total_cost), &money_bold)?;
    sheet.write_number_with_format(total_row, 11, yuan(s.totals.out_of_pocket), &money_bold)?;
    sheet.write_number_with_format(total_row, 12, yuan(s.totals.subsidy), &money_bold)?;
    for (c, w) in [
        8.0, 22.0, 8.0, 12.0, 12.0, 12.0, 18.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 10.0, 40.0,
    ]
    .into_iter()
    .enumerate()
    {
        sheet.set_column_width(c as u16, w)?;
    }
    sheet.set_freeze_panes(first + 1, 0)?;
    book.save_to_buffer()
}
