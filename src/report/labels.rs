//! Labels in Chinese or English: of the keys and statuses, of the regions and hospitals
//! that came back (looked up afterwards for the few keys in the rows), and a row of figures
//! turned into a report line.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use entity::{hospital, region};

use super::model::{Dimension, KeyValue, ReportRow, Row};
use crate::domain::{Group, Label, Lang};
use crate::visit::Kind;

impl Dimension {
    /// The column header in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Dimension::Year => lang.pick("年度", "Year"),
            Dimension::Month => lang.pick("月份", "Month"),
            Dimension::Group => lang.pick("救助类别", "Group"),
            Dimension::City => lang.pick("市（州）", "City"),
            Dimension::County => lang.pick("县（市、区）", "County"),
            Dimension::Hospital => lang.pick("医院", "Hospital"),
            Dimension::VisitKind => lang.pick("就诊类型", "Visit kind"),
        }
    }

    /// The keys a user may name, with their Chinese names, for error messages.
    pub fn allowed(lang: Lang) -> String {
        Dimension::ALL
            .iter()
            .map(|d| match lang {
                Lang::Zh => format!("{}（{}）", d.code(), d.label(Lang::Zh)),
                Lang::En => d.code().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    }
}

/// Names for the keys that came back: regions and hospitals from the database, groups,
/// kinds and dates from the code.
#[derive(Debug, Default)]
pub struct Labels {
    regions: HashMap<String, String>,
    hospitals: HashMap<i64, (String, String)>,
}

impl Labels {
    /// Loads the names the rows need: every region (a province has a few hundred) and the
    /// hospitals that appear.
    pub async fn load<C: ConnectionTrait>(db: &C, rows: &[Row]) -> Result<Labels, DbErr> {
        let regions = region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let mut ids: Vec<i64> = rows
            .iter()
            .flat_map(|r| r.keys.iter())
            .filter_map(|k| match k {
                KeyValue::Hospital(id) => Some(*id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut hospitals = HashMap::new();
        for chunk in ids.chunks(500) {
            for h in hospital::Entity::find()
                .filter(hospital::COLUMN.id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                hospitals.insert(h.id, (h.code, h.name));
            }
        }
        Ok(Labels { regions, hospitals })
    }

    /// The name of a region code or prefix, or the code itself when unknown.
    pub fn region(&self, code: &str) -> String {
        self.regions
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }
}

/// The label of a stored visit kind (the code itself for one this version does not know).
pub fn kind_label(kind: &str, lang: Lang) -> String {
    Kind::parse(kind).map_or_else(|| kind.to_owned(), |k| k.label(lang).to_owned())
}

fn month_parts(yyyymm: i32) -> (i32, u32) {
    (yyyymm / 100, (yyyymm % 100) as u32)
}

/// Turns a row of figures into a report line with labels.
pub fn report_row(row: &Row, labels: &Labels, lang: Lang) -> ReportRow {
    let mut out = ReportRow {
        patients: row.figures.patients,
        visits: row.figures.visits,
        subsidy: row.figures.subsidy,
        subsidy_wan: row.figures.subsidy.to_wan(),
        ..ReportRow::default()
    };
    for key in &row.keys {
        let label = match key {
            KeyValue::Year(y) => {
                let l = match lang {
                    Lang::Zh => format!("{y}年"),
                    Lang::En => y.to_string(),
                };
                out.year = Some(*y);
                out.year_label = Some(l.clone());
                l
            }
            KeyValue::Month(m) => {
                let (y, mo) = month_parts(*m);
                let l = match lang {
                    Lang::Zh => format!("{y}年{mo}月"),
                    Lang::En => format!("{y}-{mo:02}"),
                };
                out.month = Some(format!("{y}-{mo:02}"));
                out.month_label = Some(l.clone());
                l
            }
            KeyValue::Group(code) => {
                let l = Group::parse(code)
                    .map(|g| g.label(lang).to_owned())
                    .unwrap_or_else(|_| code.clone());
                out.group = Some(code.clone());
                out.group_label = Some(l.clone());
                l
            }
            KeyValue::City(prefix) => {
                let l = labels.region(prefix);
                out.city = Some(format!("{prefix:0<6}"));
                out.city_label = Some(l.clone());
                l
            }
            KeyValue::County(code) => {
                let l = labels.region(code);
                out.county = Some(code.clone());
                out.county_label = Some(l.clone());
                l
            }
            KeyValue::Hospital(id) => {
                let (code, name) = labels
                    .hospitals
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), format!("#{id}")));
                out.hospital = Some(*id);
                out.hospital_code = Some(code);
                out.hospital_label = Some(name.clone());
                name
            }
            KeyValue::VisitKind(kind) => {
                let l = kind_label(kind, lang);
                out.visit_kind = Some(kind.clone());
                out.visit_kind_label = Some(l.clone());
                l
            }
        };
        out.labels.push(label);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use crate::report::Figures;

    #[test]
    fn every_key_parses_back_from_its_code() {
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.code()), Some(d));
        }
        assert_eq!(Dimension::parse("province"), None);
        assert!(Dimension::allowed(Lang::Zh).contains("visit_kind（就诊类型）"));
    }

    #[test]
    fn month_labels_read_as_managers_write_them() {
        let row = Row {
            keys: vec![KeyValue::Month(202503), KeyValue::Year(2025)],
            figures: Figures {
                patients: 1,
                visits: 2,
                subsidy: Money::from_fen(7_619_590_000),
            },
        };
        let r = report_row(&row, &Labels::default(), Lang::Zh);
        assert_eq!(r.month.as_deref(), Some("2025-03"));
        assert_eq!(r.month_label.as_deref(), Some("2025年3月"));
        assert_eq!(r.labels, ["2025年3月", "2025年"]);
        assert_eq!(r.subsidy_wan.to_string(), "7619.59");
        assert_eq!(r.subsidy.to_string(), "76195900.00");
    }

    #[test]
    fn a_city_is_shown_with_its_six_digit_code() {
        let row = Row {
            keys: vec![KeyValue::City("2224".into())],
            figures: Figures::default(),
        };
        let mut labels = Labels::default();
        labels
            .regions
            .insert("2224".into(), "延边朝鲜族自治州".into());
        let r = report_row(&row, &labels, Lang::Zh);
        assert_eq!(r.city.as_deref(), Some("222400"));
        assert_eq!(r.city_label.as_deref(), Some("延边朝鲜族自治州"));
    }
}
