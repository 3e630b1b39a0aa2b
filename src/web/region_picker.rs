//! The region picker: one `<select>` whose groups are the cities of the user's scope and whose
//! options are the whole city and its counties, by name. It sends the same code a typed field
//! did, so the API's checks stay the only checks; it works without JavaScript.

use askama::Template;

use crate::domain::RegionPrefix;
use crate::regions::{CityChoice, Pick};

/// A picker, rendered into a form with `{{ picker|safe }}` (it escapes its own text).
#[derive(Template)]
#[template(path = "region_picker.html")]
pub struct RegionPicker {
    id: &'static str,
    name: &'static str,
    selected: String,
    /// The empty choice's words, for a field that may be left empty.
    blank: Option<&'static str>,
    required: bool,
    described_by: Option<&'static str>,
    invalid: bool,
    top: Option<(String, String)>,
    cities: Vec<CityChoice>,
    /// A value sent back that the list does not offer (kept so the form shows what was sent).
    unknown: Option<String>,
}

impl RegionPicker {
    /// A picker named `name` (and with the id `id`) for a user of `scope`, with `selected`
    /// chosen.
    pub fn new(
        id: &'static str,
        name: &'static str,
        scope: &RegionPrefix,
        pick: Pick,
        selected: &str,
    ) -> RegionPicker {
        let (top, cities) = super::regions().choices(scope, pick, crate::error::current_lang());
        let offered = top.iter().any(|(c, _)| c == selected)
            || cities.iter().any(|c| {
                c.whole.iter().any(|(w, _)| w == selected)
                    || c.counties.iter().any(|(k, _)| k == selected)
            });
        RegionPicker {
            id,
            name,
            selected: selected.to_owned(),
            blank: None,
            required: true,
            described_by: None,
            invalid: false,
            top,
            cities,
            unknown: (!offered && !selected.is_empty()).then(|| selected.to_owned()),
        }
    }

    /// The field may be left empty; `label` names what empty means (the whole scope, say, so
    /// the province is not offered a second time).
    pub fn optional(mut self, label: &'static str) -> RegionPicker {
        self.blank = Some(label);
        // The province chosen is the empty choice here (the whole scope): shown as such, not
        // as a bare code.
        if let Some((province, _)) = self.top.take()
            && self.selected == province
        {
            self.selected.clear();
        }
        if self.unknown.as_deref().is_some_and(|u| u.len() == 2) {
            self.unknown = None;
            self.selected.clear();
        }
        self.required = false;
        self
    }

    /// The field must be chosen; `label` asks for it until it is.
    pub fn prompt(mut self, label: &'static str) -> RegionPicker {
        self.blank = Some(label);
        self
    }

    /// The id of the hint (and error) that describe the field.
    pub fn described_by(mut self, id: &'static str) -> RegionPicker {
        self.described_by = Some(id);
        self
    }

    /// Marks the field as holding an error.
    pub fn invalid(mut self, invalid: bool) -> RegionPicker {
        self.invalid = invalid;
        self
    }
}
