//! The names of regions (`regions`, seeded by the migrations from GB/T 2260) and the choices a
//! region picker offers: what people read instead of codes. The list changes only with a
//! migration, so an instance reads it once ([`crate::state::AppState::regions`]).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use entity::region;

use crate::domain::{Lang, RegionPrefix};

/// One region of the list.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    parent: Option<String>,
    retired: bool,
}

/// Every region's name and parent, by code; cities and counties in code order.
#[derive(Debug, Default)]
pub struct Regions {
    by_code: HashMap<String, Entry>,
    /// Codes in order (the pickers list them so).
    order: Vec<String>,
}

/// Which codes a picker may give: a scope (2, 4 or 6 digits), a city or county (budget
/// lines), or a county only (hospitals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The province, a city or a county.
    Scope,
    /// A city or a county.
    CityOrCounty,
    /// A county (6 digits).
    County,
}

/// A city of a picker with the counties under it that can be picked.
#[derive(Debug, Clone)]
pub struct CityChoice {
    /// The city's code.
    pub code: String,
    /// The city's name (the group's heading).
    pub name: String,
    /// The city itself, when it can be picked: (code, label).
    pub whole: Option<(String, String)>,
    /// The counties: (code, name).
    pub counties: Vec<(String, String)>,
}

impl Regions {
    /// Reads the list.
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Regions, DbErr> {
        let rows = region::Entity::find()
            .order_by_asc(region::COLUMN.code)
            .all(db)
            .await?;
        Ok(Regions::from_rows(rows.into_iter().map(|r| {
            (r.code, r.name, r.parent_code, r.successor_code.is_some())
        })))
    }

    /// The list from (code, name, parent, retired) rows.
    pub fn from_rows(
        rows: impl IntoIterator<Item = (String, String, Option<String>, bool)>,
    ) -> Self {
        let mut out = Regions::default();
        for (code, name, parent, retired) in rows {
            out.order.push(code.clone());
            out.by_code.insert(
                code,
                Entry {
                    name,
                    parent,
                    retired,
                },
            );
        }
        out.order.sort();
        out
    }

    /// A region's own name (南关区), or the code itself when the list does not know it.
    pub fn short_name(&self, code: &str) -> String {
        self.by_code
            .get(code)
            .map_or_else(|| code.to_owned(), |e| e.name.clone())
    }

    /// The name people read: a county with its city (长春市 南关区), a city or the province
    /// alone; the code itself when the list does not know it.
    pub fn name(&self, code: &str) -> String {
        let Some(e) = self.by_code.get(code) else {
            return code.to_owned();
        };
        match e.parent.as_deref().and_then(|p| self.by_code.get(p)) {
            Some(parent) if code.len() == 6 => format!("{} {}", parent.name, e.name),
            _ => e.name.clone(),
        }
    }

    /// A scope in words: "吉林省（全省）", "长春市（全市）", or a county's name.
    pub fn scope_name(&self, scope: &str, lang: Lang) -> String {
        let name = self.name(scope);
        match scope.len() {
            2 => format!("{name}{}", lang.pick("（全省）", " (whole province)")),
            4 => format!("{name}{}", lang.pick("（全市）", " (whole city)")),
            _ => name,
        }
    }

    /// What a picker for `pick` offers a user of `scope`: the scope itself first when it can be
    /// picked (a province user's whole province), then each city inside the scope with its
    /// counties. Retired codes are not offered.
    pub fn choices(
        &self,
        scope: &RegionPrefix,
        pick: Pick,
        lang: Lang,
    ) -> (Option<(String, String)>, Vec<CityChoice>) {
        let s = scope.as_str();
        let top =
            (pick == Pick::Scope && s.len() == 2).then(|| (s.to_owned(), self.scope_name(s, lang)));
        let mut cities: Vec<CityChoice> = Vec::new();
        for code in &self.order {
            let e = &self.by_code[code];
            if e.retired || !(code.starts_with(s) || s.starts_with(code.as_str())) {
                continue;
            }
            match code.len() {
                4 => cities.push(CityChoice {
                    code: code.clone(),
                    name: e.name.clone(),
                    whole: (pick != Pick::County && code.starts_with(s))
                        .then(|| (code.clone(), self.scope_name(code, lang))),
                    counties: Vec::new(),
                }),
                6 if code.starts_with(s) => {
                    if let Some(city) = cities
                        .last_mut()
                        .filter(|c| e.parent.as_deref() == Some(c.code.as_str()))
                    {
                        city.counties.push((code.clone(), e.name.clone()));
                    }
                }
                _ => {}
            }
        }
        cities.retain(|c| c.whole.is_some() || !c.counties.is_empty());
        (top, cities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Regions {
        let row = |c: &str, n: &str, p: Option<&str>, r: bool| {
            (c.to_owned(), n.to_owned(), p.map(str::to_owned), r)
        };
        Regions::from_rows([
            row("22", "吉林省", None, false),
            row("2201", "长春市", Some("22"), false),
            row("220102", "南关区", Some("2201"), false),
            row("220104", "朝阳区", Some("2201"), false),
            row("220181", "九台市", Some("2201"), true),
            row("2224", "延边朝鲜族自治州", Some("22"), false),
            row("222401", "延吉市", Some("2224"), false),
        ])
    }

    #[test]
    fn a_county_is_named_with_its_city_and_an_unknown_code_by_itself() {
        let r = list();
        assert_eq!(r.name("220102"), "长春市 南关区");
        assert_eq!(r.name("2201"), "长春市");
        assert_eq!(r.name("22"), "吉林省");
        assert_eq!(r.name("229999"), "229999");
        assert_eq!(r.scope_name("22", Lang::Zh), "吉林省（全省）");
        assert_eq!(r.scope_name("2224", Lang::Zh), "延边朝鲜族自治州（全市）");
    }

    #[test]
    fn a_picker_offers_only_what_lies_inside_the_scope_and_is_not_retired() {
        let r = list();
        let (top, cities) = r.choices(&RegionPrefix::parse("22").unwrap(), Pick::Scope, Lang::Zh);
        assert_eq!(top.unwrap().0, "22");
        assert_eq!(cities.len(), 2);
        let codes: Vec<&str> = cities[0].counties.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(codes, ["220102", "220104"]);

        let (top, cities) = r.choices(
            &RegionPrefix::parse("220104").unwrap(),
            Pick::Scope,
            Lang::Zh,
        );
        assert!(top.is_none());
        assert_eq!(cities.len(), 1);
        assert!(
            cities[0].whole.is_none(),
            "a county user cannot pick their city"
        );
        assert_eq!(
            cities[0].counties,
            [("220104".to_owned(), "朝阳区".to_owned())]
        );

        let (top, cities) = r.choices(&RegionPrefix::parse("22").unwrap(), Pick::County, Lang::Zh);
        assert!(top.is_none());
        assert!(cities.iter().all(|c| c.whole.is_none()));
    }
}
