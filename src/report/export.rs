//! The report as a spreadsheet: a workbook (.xlsx) and CSV, with the title, the filters
//! line, the headers and the total row.

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use super::model::{Dimension, SpendingReport, Status};
use crate::domain::Label;
use crate::domain::{Group, Lang, Money};
use crate::export_safe::{merge_text, write_csv_record, write_text};

fn title(report: &SpendingReport, lang: Lang) -> String {
    let f = &report.filters;
    match lang {
        Lang::Zh => format!(
            "肿瘤患者救助支出统计（{}至{}）",
            f.from.format("%Y年%-m月%-d日"),
            f.to.format("%Y年%-m月%-d日")
        ),
        Lang::En => format!("Cancer-patient assistance spending, {} to {}", f.from, f.to),
    }
}

fn filter_line(report: &SpendingReport, lang: Lang) -> String {
    let f = &report.filters;
    let sep = lang.pick("、", ", ");
    let statuses = f
        .status
        .iter()
        .filter_map(|s| Status::parse(s))
        .map(|s| s.label(lang))
        .collect::<Vec<_>>()
        .join(sep);
    let groups = if f.group.is_empty() {
        lang.pick("全部", "all").to_owned()
    } else {
        f.group
            .iter()
            .map(|g| {
                Group::parse(g)
                    .map(|g| g.label(lang).to_owned())
                    .unwrap_or_else(|_| g.clone())
            })
            .collect::<Vec<_>>()
            .join(sep)
    };
    let keys = if report.dims.is_empty() {
        lang.pick("不分组", "none").to_owned()
    } else {
        report
            .dims
            .iter()
            .map(|d| d.label(lang))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let at = crate::clock::local(report.generated_at).format("%Y-%m-%d %H:%M");
    let zone = crate::clock::zone_label();
    match lang {
        Lang::Zh => format!(
            "范围：{}（{}）；状态：{statuses}；救助类别：{groups}；分组：{keys}；生成时间：{at}（{zone}）",
            f.region_label, f.region
        ),
        Lang::En => format!(
            "Region: {} ({}); status: {statuses}; groups: {groups}; grouped by: {keys}; generated {at} ({})",
            f.region_label,
            f.region,
            crate::clock::zone().name()
        ),
    }
}

fn figure_headers(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Zh => ["人数", "人次", "救助金额（元）", "救助金额（万元）"],
        Lang::En => [
            "Patients",
            "Visits",
            "Subsidy (yuan)",
            "Subsidy (10,000 yuan)",
        ],
    }
}

fn key_headers(report: &SpendingReport, lang: Lang) -> Vec<&'static str> {
    if report.dims.is_empty() {
        vec![lang.pick("项目", "Item")]
    } else {
        report.dims.iter().map(|d| d.label(lang)).collect()
    }
}

fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or_default()
}

/// The report as a workbook: a title with the period, a line with the filters, Chinese
/// headers, thousands separators and two decimals, a total row, and the header frozen.
///
/// Built in memory: a report is grouped totals, a few hundred lines at most (the keys' values
/// multiplied), never the visits themselves. Labels (hospital and region names) are written
/// inert ([`crate::export_safe`]); the figures are numeric cells.
pub fn spending_xlsx(report: &SpendingReport, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("支出统计", "Spending"))?;
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let note_fmt = Format::new().set_font_color("#595959");
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let text = Format::new().set_border(FormatBorder::Thin);
    let count = Format::new()
        .set_num_format("#,##0")
        .set_border(FormatBorder::Thin);
    let money = Format::new()
        .set_num_format("#,##0.00")
        .set_border(FormatBorder::Thin);
    let total_text = text.clone().set_bold().set_background_color("#F2F2F2");
    let total_count = count.clone().set_bold().set_background_color("#F2F2F2");
    let total_money = money.clone().set_bold().set_background_color("#F2F2F2");

    let keys = key_headers(report, lang);
    let nkeys = keys.len() as u16;
    let last_col = nkeys + 3;
    merge_text(
        sheet,
        (0, 0),
        (0, last_col),
        &title(report, lang),
        &title_fmt,
    )?;
    sheet.set_row_height(0, 26)?;
    merge_text(
        sheet,
        (1, 0),
        (1, last_col),
        &filter_line(report, lang),
        &note_fmt,
    )?;
    let header_row = 2;
    for (c, h) in keys.iter().chain(figure_headers(lang).iter()).enumerate() {
        write_text(sheet, header_row, c as u16, h, Some(&head))?;
    }
    sheet.set_row_height(header_row, 30)?;
    let write_figures = |sheet: &mut rust_xlsxwriter::Worksheet,
                         r: u32,
                         patients: i64,
                         visits: i64,
                         subsidy: Money,
                         wan: Decimal,
                         counts: &Format,
                         money: &Format|
     -> Result<(), XlsxError> {
        sheet.write_number_with_format(r, nkeys, patients as f64, counts)?;
        sheet.write_number_with_format(r, nkeys + 1, visits as f64, counts)?;
        sheet.write_number_with_format(r, nkeys + 2, to_f64(subsidy.to_decimal()), money)?;
        sheet.write_number_with_format(r, nkeys + 3, to_f64(wan), money)?;
        Ok(())
    };
    let mut r = header_row + 1;
    for line in &report.rows {
        for (c, label) in line.labels.iter().enumerate() {
            write_text(sheet, r, c as u16, label, Some(&text))?;
        }
        write_figures(
            sheet,
            r,
            line.patients,
            line.visits,
            line.subsidy,
            line.subsidy_wan,
            &count,
            &money,
        )?;
        r += 1;
    }
    let total_label = lang.pick("合计", "Total");
    if nkeys > 1 {
        merge_text(sheet, (r, 0), (r, nkeys - 1), total_label, &total_text)?;
    } else {
        write_text(sheet, r, 0, total_label, Some(&total_text))?;
    }
    let t = &report.total;
    write_figures(
        sheet,
        r,
        t.patients,
        t.visits,
        t.subsidy,
        t.subsidy_wan,
        &total_count,
        &total_money,
    )?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    for (c, d) in report.dims.iter().enumerate() {
        let width = match d {
            Dimension::Hospital => 30.0,
            Dimension::County | Dimension::City => 16.0,
            _ => 12.0,
        };
        sheet.set_column_width(c as u16, width)?;
    }
    if report.dims.is_empty() {
        sheet.set_column_width(0, 12.0)?;
    }
    sheet.set_column_width(nkeys, 10.0)?;
    sheet.set_column_width(nkeys + 1, 10.0)?;
    sheet.set_column_width(nkeys + 2, 18.0)?;
    sheet.set_column_width(nkeys + 3, 18.0)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, header_row)?;
    book.save_to_buffer()
}

/// The report as CSV: UTF-8 with a byte-order mark, so that Excel opens it in Chinese; the
/// header, one line per row and the total line, amounts exact to the fen. Built in memory, as
/// the workbook is (grouped totals are small). Labels are written inert
/// ([`crate::export_safe`]); the figures, negative ones included, are plain numbers and stay so.
pub fn spending_csv(report: &SpendingReport, lang: Lang) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header: Vec<&str> = key_headers(report, lang);
        header.extend(figure_headers(lang));
        let _ = write_csv_record(&mut w, &header);
        let figures = |patients: i64, visits: i64, subsidy: Money, wan: Decimal| {
            [
                patients.to_string(),
                visits.to_string(),
                subsidy.to_string(),
                wan.to_string(),
            ]
        };
        for line in &report.rows {
            let mut rec = line.labels.clone();
            rec.extend(figures(
                line.patients,
                line.visits,
                line.subsidy,
                line.subsidy_wan,
            ));
            let _ = write_csv_record(&mut w, &rec);
        }
        let t = &report.total;
        let mut rec = vec![lang.pick("合计", "Total").to_owned()];
        rec.resize(header.len() - 4, String::new());
        rec.extend(figures(t.patients, t.visits, t.subsidy, t.subsidy_wan));
        let _ = write_csv_record(&mut w, &rec);
        let _ = w.flush();
    }
    out
}
