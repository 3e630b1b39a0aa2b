//! Writes the .xlsx fixtures under fixtures/ (the .xls comes from fixtures/make_xls.py, the
//! CSV files are text). Run again after changing them:
//!
//!     cargo run --example make_fixtures

use cancer_aid::domain::id_number::check_character;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};

fn id(region: &str, birth: &str, seq: u32) -> String {
    let body = format!("{region}{birth}{seq:03}");
    format!("{body}{}", check_character(body.as_bytes()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut book = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");

    // Sheet 1: a township's urban low-income roster as clerks make it.
    let s = book.add_worksheet();
    s.set_name("南关区自强街道")?;
    s.merge_range(0, 0, 0, 9, "2020年6月城市低保名册（南关区）", &title)?;
    s.write_string(
        1,
        0,
        "填报单位：南关区民政局                填报日期：2020年6月30日",
    )?;
    for (c, h) in [
        "序号",
        "姓名",
        "身份证号码",
        "与户主关系",
        "户主姓名",
        "家庭人口",
        "月保障金",
        "行政区划代码",
    ]
    .iter()
    .enumerate()
    {
        s.merge_range(2, c as u16, 3, c as u16, h, &head)?;
    }
    s.merge_range(2, 8, 2, 9, "保障期限", &head)?;
    s.write_string_with_format(3, 8, "起始日期", &head)?;
    s.write_string_with_format(3, 9, "终止日期", &head)?;
    let rows: Vec<(&str, String, &str, &str, f64, f64)> = vec![
        (
            "王秀英",
            id("220102", "19560312", 24),
            "户主",
            "王秀英",
            2.0,
            610.0,
        ),
        (
            "刘  强",
            id("220102", "19801105", 13),
            "之子",
            "王秀英",
            2.0,
            610.0,
        ),
        (
            "张建国",
            id("220102", "19630721", 35),
            "户主",
            "张建国",
            1.0,
            580.0,
        ),
        (
            "买买提•吐尔逊",
            id("220102", "19700101", 57),
            "户主",
            "买买提•吐尔逊",
            3.0,
            720.0,
        ),
        (
            "陈丽",
            id("220102", "19910228", 42),
            "户主",
            "陈丽",
            1.0,
            580.0,
        ),
    ];
    let mut r = 4u32;
    for (i, (name, idn, rel, head_name, size, amount)) in rows.iter().enumerate() {
        s.write_number(r, 0, (i + 1) as f64)?;
        s.write_string(r, 1, *name)?;
        s.write_string_with_format(r, 2, idn, &text)?;
        s.write_string(r, 3, *rel)?;
        s.write_string(r, 4, *head_name)?;
        s.write_number(r, 5, *size)?;
        s.write_number(r, 6, *amount)?;
        s.write_string(r, 7, "220102")?;
        r += 1;
    }
    // Mixed date forms, one per row: a date cell, text forms, and a serial number.
    s.write_date_with_format(4, 8, &ExcelDateTime::from_ymd(2019, 3, 1)?, &date)?;
    s.write_string(5, 8, "2019年3月")?;
    s.write_string(6, 8, "2018/5/1")?;
    s.write_string(7, 8, "2020.06")?;
    s.write_number(8, 8, 43983.0)?;
    s.write_string(8, 9, "2021年12月31日")?;
    // Rows with problems a clerk must fix.
    s.write_number(r, 0, 6.0)?;
    s.write_string(r, 1, "赵淑芬")?;
    s.write_number(r, 2, 220102195501011000.0)?; // typed as a number: digits lost
    s.write_string(r, 7, "220102")?;
    s.write_string(r, 8, "2020-01-01")?;
    r += 1;
    s.write_number(r, 0, 7.0)?;
    s.write_string(r, 1, "孙立军")?;
    let mut bad = id("220102", "19681010", 17);
    bad.replace_range(17..18, if bad.ends_with('1') { "2" } else { "1" });
    s.write_string(r, 2, &bad)?; // wrong check character
    s.write_string(r, 7, "220102")?;
    s.write_string(r, 8, "2020-01-01")?;
    r += 1;
    s.write_number(r, 0, 8.0)?;
    s.write_string(r, 2, id("220102", "19750505", 26))?; // no name
    s.write_string(r, 7, "220102")?;
    s.write_number(r, 8, 2020.1)?; // 2020.1: January or October?
    r += 2; // a blank row
    s.write_string(r, 0, "合计")?;
    s.write_string(r, 1, "5户8人")?;
    s.write_number(r, 6, 3100.0)?;
    r += 1;
    s.write_string(r, 0, "制表人：李梅")?;
    s.write_string(r, 4, "审核人：周涛")?;
    s.set_column_width(2, 22)?;

    // Sheet 2: another township, plain header, dates as text.
    let s = book.add_worksheet();
    s.set_name("南关区桃源街道")?;
    for (c, h) in [
        "序号",
        "救助对象姓名",
        "公民身份号码",
        "区划代码",
        "纳入时间",
        "退出时间",
    ]
    .iter()
    .enumerate()
    {
        s.write_string_with_format(0, c as u16, *h, &head)?;
    }
    let rows = [
        ("李桂兰", id("220102", "19490817", 46), "2017.09.01", ""),
        ("周志刚", id("220102", "19720630", 31), "201805", ""),
        (
            "吴海燕",
            id("220102", "19850412", 64),
            "2016-01-01",
            "2019-12-31",
        ),
        ("王秀英", id("220102", "19560312", 24), "2019-03-01", ""), // also on sheet 1: a duplicate
    ];
    for (i, (name, idn, from, to)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        s.write_number(r, 0, (i + 1) as f64)?;
        s.write_string(r, 1, *name)?;
        s.write_string_with_format(r, 2, idn, &text)?;
        s.write_string(r, 3, "220102")?;
        s.write_string(r, 4, *from)?;
        if !to.is_empty() {
            s.write_string(r, 5, *to)?;
        }
    }

    // Sheet 3: notes, no roster.
    let s = book.add_worksheet();
    s.set_name("填报说明")?;
    s.write_string(0, 0, "本表由街道民政办填报，每月5日前报区民政局。")?;

    book.save("fixtures/roster_urban_nanguan_2020-06.xlsx")?;

    // Rural roster with a group column and several counties, for the demo.
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.set_name("农村低保")?;
    s.merge_range(0, 0, 0, 6, "2020年农村低保对象花名册", &title)?;
    for (c, h) in [
        "序号",
        "成员姓名",
        "身份证号",
        "保障类别",
        "行政区划代码",
        "享受起始年月",
        "乡镇(街道)",
    ]
    .iter()
    .enumerate()
    {
        s.write_string_with_format(1, c as u16, *h, &head)?;
    }
    let rows = [
        (
            "金英子",
            id("222401", "19620303", 28),
            "农村低保",
            "222401",
            "2018年1月",
            "依兰镇",
        ),
        (
            "朴成浩",
            id("222401", "19590919", 15),
            "农村低保",
            "222401",
            "2018年1月",
            "依兰镇",
        ),
        (
            "崔明哲",
            id("222402", "19660606", 37),
            "农村低保",
            "222402",
            "2019年7月",
            "英安镇",
        ),
        (
            "高凤霞",
            id("220122", "19710214", 48),
            "农村低保",
            "220122",
            "2017年3月",
            "合隆镇",
        ),
        (
            "马德福",
            id("220122", "19530808", 19),
            "五保",
            "220122",
            "2015年1月",
            "合隆镇",
        ),
    ];
    for (i, (name, idn, group, region, from, town)) in rows.iter().enumerate() {
        let r = i as u32 + 2;
        s.write_number(r, 0, (i + 1) as f64)?;
        s.write_string(r, 1, *name)?;
        s.write_string_with_format(r, 2, idn, &text)?;
        s.write_string(r, 3, *group)?;
        s.write_string(r, 4, *region)?;
        s.write_string(r, 5, *from)?;
        s.write_string(r, 6, *town)?;
    }
    s.write_string(8, 0, "总计：5人")?;
    book.save("fixtures/roster_rural_2020.xlsx")?;
    println!("fixtures written");
    Ok(())
}
