//! The validator on small sheets: headers, titles and footers, every row problem, the
//! uploader's scope and the columns' reading.

use std::ops::ControlFlow;

use super::*;
use crate::roster::read::{Cell, RowSink};

fn t(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn run(params: Params, sheet: Vec<Vec<Cell>>) -> (Vec<Outcome>, Vec<SheetReport>) {
    let mut out = Vec::new();
    let mut v = Validator::new(params, |o| {
        out.push(o);
        ControlFlow::Continue(())
    });
    v.begin_sheet("城关镇", 0);
    for (i, r) in sheet.iter().enumerate() {
        let _ = v.row(i as u32, r);
    }
    v.end_sheet();
    let sheets = v.sheets.clone();
    drop(v);
    (out, sheets)
}

fn params() -> Params {
    Params {
        group: Some(Group::LowIncomeUrban),
        region: Some(RegionPrefix::parse("2201").unwrap()),
        scope: RegionPrefix::parse("22").unwrap(),
        mapping: Default::default(),
    }
}

fn codes(o: &Outcome) -> Vec<&'static str> {
    match o {
        Outcome::Rejected(e, _, _) => e.iter().map(|e| e.code).collect(),
        _ => vec![],
    }
}

#[test]
fn titles_two_row_headers_blanks_and_footers() {
    let sheet = vec![
        vec![t("2020年6月城市低保名册")],
        vec![t("填报单位：南关区民政局")],
        vec![
            t("序号"),
            t("姓名"),
            t("公民身份号码"),
            t("区划代码"),
            t("保障期限"),
            Cell::Empty,
            t("户主姓名"),
        ],
        vec![
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            t("起始日期"),
            t("终止日期"),
        ],
        vec![
            Cell::Int(1),
            t("张 三"),
            t("11010519491231002x"),
            t("220102"),
            t("2020.06"),
            Cell::Empty,
            t("张三"),
        ],
        vec![],
        vec![
            Cell::Int(2),
            t("买买提•吐尔逊"),
            t("440524188001010014"),
            t("220102"),
            Cell::Date(NaiveDate::from_ymd_opt(2019, 3, 1).unwrap()),
            t("2021-12-31"),
            t("买买提"),
        ],
        vec![t("合计"), t("2人")],
        vec![t("制表人：李四"), Cell::Empty, t("审核人：王五")],
    ];
    let (out, sheets) = run(params(), sheet);
    let accepted: Vec<&RosterRow> = out
        .iter()
        .filter_map(|o| match o {
            Outcome::Accepted(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(accepted.len(), 2, "{out:?}");
    assert_eq!(accepted[0].row, 5);
    assert_eq!(accepted[0].name, "张三");
    assert_eq!(accepted[0].id_number.as_str(), "11010519491231002X");
    assert_eq!(accepted[0].valid_from, NaiveDate::from_ymd_opt(2020, 6, 1));
    assert_eq!(accepted[0].region.as_str(), "220102");
    assert_eq!(
        accepted[0].extra,
        vec![
            (Arc::from("序号"), "1".to_owned()),
            (Arc::from("户主姓名"), "张三".to_owned())
        ]
    );
    let stored: serde_json::Value =
        serde_json::from_str(accepted[0].extra_json.as_deref().unwrap()).unwrap();
    assert_eq!(stored, serde_json::json!({"序号": "1", "户主姓名": "张三"}));
    assert_eq!(accepted[1].name, "买买提·吐尔逊");
    assert_eq!(accepted[1].valid_to, NaiveDate::from_ymd_opt(2021, 12, 31));
    assert_eq!(sheets[0].header_row, Some(3));
    assert_eq!(
        (sheets[0].accepted, sheets[0].rejected, sheets[0].skipped),
        (2, 0, 3)
    );
    // The sub-header's columns replace the merged parent's, whose name stays on no column.
    let fields: Vec<(&str, Option<&str>)> = sheets[0]
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.field))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("序号", None),
            ("姓名", Some("name")),
            ("公民身份号码", Some("id_number")),
            ("区划代码", Some("region_code")),
            ("起始日期", Some("valid_from")),
            ("终止日期", Some("valid_to")),
            ("户主姓名", None),
        ]
    );
    assert!(sheets[0].warnings.is_empty(), "{:?}", sheets[0].warnings);
}

#[test]
fn every_row_problem_has_its_code() {
    let header = vec![
        t("身份证号码"),
        t("姓名"),
        t("救助类别"),
        t("行政区划代码"),
        t("保障起始日期"),
        t("终止日期"),
    ];
    let row = |id: Cell, name: &str, group: &str, region: &str, from: Cell, to: Cell| {
        vec![id, t(name), t(group), t(region), from, to]
    };
    let ok_from = t("2020-01-01");
    let sheet = vec![
        header,
        row(
            t("110105194912310021"),
            "甲",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            Cell::Float(1.101_051_949_123_1e17),
            "乙",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("110105491231002"),
            "丙",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("１１０１０５ １９４９１２３１００２Ｘ"),
            "丁",
            "低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "农村低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "220102",
            t("2020-02-30"),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "220102",
            Cell::Float(2020.1),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "220102",
            t("2020-06-01"),
            t("2020-05-01"),
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "222401",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
        row(
            t("440524188001010014"),
            "戊",
            "城市低保",
            "220102",
            ok_from.clone(),
            Cell::Empty,
        ),
    ];
    let (out, _) = run(params(), sheet);
    let got: Vec<Vec<&str>> = out.iter().map(codes).collect();
    assert_eq!(got[0], vec!["id_number_check"]);
    assert_eq!(got[1], vec!["id_number_is_number"]);
    assert!(
        matches!(&out[2], Outcome::Accepted(r) if r.id_number.as_str() == "11010519491231002X")
    );
    assert_eq!(got[3], vec!["unknown_group"]);
    assert_eq!(got[4], vec!["name_missing"]);
    assert_eq!(got[5], vec!["group_conflict"]);
    assert_eq!(got[6], vec!["invalid_date"]);
    assert_eq!(got[7], vec!["ambiguous_date"]);
    assert_eq!(got[8], vec!["date_order"]);
    assert_eq!(got[9], vec!["region_conflict"]);
    assert!(matches!(&out[10], Outcome::Accepted(_)));
    assert_eq!(got[11], vec!["duplicate_in_file"]);
    let Outcome::Rejected(errs, id, _) = &out[11] else {
        panic!()
    };
    assert!(
        errs[0].message_zh.contains("第12行"),
        "{}",
        errs[0].message_zh
    );
    assert!(id.is_some());
    let Outcome::Rejected(errs, _, data) = &out[1] else {
        panic!()
    };
    assert_eq!(errs[0].column, "身份证号码");
    assert_eq!(data[1], ("姓名".to_owned(), "乙".to_owned()));
    assert!(errs[0].message_zh.contains("文本"));
}

#[test]
fn a_sheet_without_an_id_column_is_reported() {
    let (out, sheets) = run(
        params(),
        vec![
            vec![t("姓名"), t("家庭人口")],
            vec![t("张三"), Cell::Int(3)],
        ],
    );
    assert!(out.is_empty());
    assert!(!sheets[0].has_roster);
    assert!(sheets[0].note.as_ref().unwrap().contains("身份证号码"));
    assert!(
        sheets[0]
            .note_en
            .as_ref()
            .unwrap()
            .contains("no ID-number column")
    );
}

#[test]
fn outside_the_uploaders_scope_is_refused() {
    let p = Params {
        group: Some(Group::EntitledCare),
        region: None,
        scope: RegionPrefix::parse("2224").unwrap(),
        mapping: Default::default(),
    };
    let (out, _) = run(
        p,
        vec![
            vec![t("身份证号码"), t("姓名"), t("区划代码")],
            vec![t("440524188001010014"), t("甲"), t("220102")],
        ],
    );
    assert_eq!(codes(&out[0]), vec!["region_outside_scope"]);
}

#[test]
fn a_header_under_an_unlisted_spelling_is_read_and_shown() {
    let (out, sheets) = run(
        params(),
        vec![
            vec![
                t("序号"),
                t("救助对象身份证号码"),
                t("姓 名"),
                t("享受起始日期（年月日）"),
                t("批复时点"),
            ],
            vec![
                Cell::Int(1),
                t("440524188001010014"),
                t("甲"),
                t("2020-06-15"),
                t("2020-05-20"),
            ],
            vec![
                Cell::Int(2),
                t("11010519491231002X"),
                t("乙"),
                t("2020-13-01"),
                t("2020-05-21"),
            ],
        ],
    );
    assert!(
        matches!(&out[0], Outcome::Accepted(r) if r.valid_from == NaiveDate::from_ymd_opt(2020, 6, 15))
    );
    assert_eq!(codes(&out[1]), vec!["invalid_date"]);
    let Outcome::Rejected(errs, _, _) = &out[1] else {
        panic!()
    };
    assert_eq!(errs[0].column, "享受起始日期（年月日）");
    let r = &sheets[0];
    let mapped: Vec<(&str, Option<&str>, bool)> = r
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.field, c.kept_as_extra))
        .collect();
    assert_eq!(
        mapped,
        vec![
            ("序号", None, true),
            ("救助对象身份证号码", Some("id_number"), false),
            ("姓 名", Some("name"), false),
            ("享受起始日期（年月日）", Some("valid_from"), false),
            ("批复时点", None, true),
        ]
    );
    let warned: Vec<(&str, &str)> = r
        .warnings
        .iter()
        .map(|w| (w.code, w.columns[0].as_str()))
        .collect();
    assert_eq!(warned, vec![("column_looks_like_dates", "批复时点")]);
    assert!(r.header_error.is_none() && header_problems(&sheets).is_none());
}

#[test]
fn two_columns_claiming_one_field_refuse_the_file() {
    let mut out = Vec::new();
    let mut v = Validator::new(params(), |o| {
        out.push(o);
        ControlFlow::Continue(())
    });
    let good = [
        vec![t("身份证号码"), t("姓名")],
        vec![t("440524188001010014"), t("甲")],
    ];
    let clash = [
        vec![t("身份证号码"), t("姓名"), t("公民身份号码")],
        vec![t("11010519491231002X"), t("乙"), t("11010519491231002X")],
    ];
    for (name, sheet) in [("一", &good), ("二", &clash), ("三", &good)] {
        v.begin_sheet(name, 0);
        for (i, r) in sheet.iter().enumerate() {
            let _ = v.row(i as u32, r);
        }
        v.end_sheet();
    }
    let sheets = v.sheets.clone();
    drop(v);
    // The first sheet was read before the clash was seen; nothing after it is.
    assert_eq!(out.len(), 1);
    assert!(sheets[0].header_error.is_none());
    let e = sheets[1].header_error.as_ref().unwrap();
    assert_eq!(e.columns, vec!["身份证号码", "公民身份号码"]);
    assert_eq!(sheets[2].rows, 0);
    let m = header_problems(&sheets).unwrap();
    assert!(
        m.zh.contains("“二”") && m.zh.contains("公民身份号码"),
        "{}",
        m.zh
    );
    assert!(
        m.en.contains("'二'") && m.en.contains("公民身份号码"),
        "{}",
        m.en
    );
}

#[test]
fn column_letters() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(27), "AB");
}
