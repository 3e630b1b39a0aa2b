//! A person's pages: `/persons/{person_id}/roster-history`, every roster entry over time with
//! the imports behind each, read through `roster::person_history` as the API reads it. The
//! person is named by record id only: an ID number never goes into a page's address.

use std::collections::HashSet;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use sea_orm::{EntityTrait, QueryFilter};

use entity::roster_import;

use super::i18n::Texts;
use super::{Page, Tr, WebUser, app_error_page, error_page, fmt, render};
use crate::access;
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::error::{AppResult, current_lang};
use crate::person::PersonKey;
use crate::roster::history;
use crate::roster::import::Mode;
use crate::roster::person_history::{self, ImportRef, PersonRef, RosterHistory};
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("history.title", "名册记录", "Roster history"),
    (
        "history.intro",
        "此人在各救助类别名册中的全部记录（含已终止的），以及纳入、变更、终止每条记录的导入批次。名册导入直接修改记录，“最近变更”只显示最后一次修改它的批次，此页不列出每次修改及修改前的内容。",
        "Every roster entry of this person in every group, ended ones included, with the imports that added, changed and ended each. An import changes an entry in place: \"last changed\" shows the import that changed it last; this page does not list each change or what the entry said before.",
    ),
    ("history.link", "名册记录", "Roster history"),
    ("history.id_number", "身份证号码", "ID number"),
    ("history.group", "救助类别", "Group"),
    ("history.region", "地区", "Region"),
    ("history.name_on_roster", "名册姓名", "Name on the roster"),
    ("history.valid_from", "纳入日期", "Covered from"),
    ("history.valid_to", "终止日期", "Ended on"),
    ("history.open", "至今有效", "still covered"),
    ("history.extra", "其他信息", "Other columns"),
    ("history.imports", "导入批次", "Imports"),
    ("history.added_by", "纳入", "Added"),
    ("history.changed_by", "最近变更", "Last changed"),
    ("history.ended_by", "终止", "Ended"),
    ("history.activated_by", "启用人", "Activated by"),
    ("history.changes", "变更记录", "Changes"),
    ("history.change_updated", "变更", "Changed"),
    ("history.change_ended", "终止", "Ended"),
    (
        "history.change_reverted",
        "撤销导入后恢复",
        "Put back by a revert",
    ),
    ("history.effective_date", "生效日期", "effective"),
    ("history.uploader", "上传人", "uploaded by"),
    ("history.uploaded_at", "上传时间", "at"),
    ("history.cli", "命令行导入", "the command line"),
    (
        "history.none",
        "您的数据范围内没有此人的名册记录。",
        "No roster entry of this person lies inside your scope.",
    ),
    (
        "history.scope_note",
        "只显示您数据范围内地区的记录。",
        "Only entries of regions inside your scope are shown.",
    ),
];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/persons/{person_id}/roster-history", get(roster_history))
}

/// One import an entry names, as the page writes it.
struct ImportLine {
    /// Added, last changed or ended.
    role: &'static str,
    id: i64,
    file_name: String,
    effective_date: String,
    mode: &'static str,
    who: String,
    when: String,
    /// Who activated it, when known.
    activated_by: Option<String>,
    /// Whether the user may open the import's own page.
    link: bool,
}

/// One change of an entry, before → after, in words.
struct ChangeLine {
    /// Changed, ended or put back by a revert.
    kind: &'static str,
    /// The import, `#id`.
    import: Option<i64>,
    when: String,
    before: String,
    after: String,
}

struct EntryRow {
    group: String,
    region_code: String,
    name_on_roster: String,
    valid_from: String,
    valid_to: Option<String>,
    extra: Vec<(String, String)>,
    imports: Vec<ImportLine>,
    changes: Vec<ChangeLine>,
}

#[derive(Template)]
#[template(path = "persons/roster_history.html")]
struct HistoryPage {
    page: Page,
    person: PersonRef,
    rows: Vec<EntryRow>,
    /// The user's scope is narrower than the province: entries elsewhere are left out.
    partial_scope: bool,
}

async fn roster_history(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(raw): Path<String>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::ROSTER_HISTORY)?;
    let t = Tr(current_lang());
    // Record ids only (as the API reads them: fewer than 15 digits); anything else, an ID
    // number typed into the address above all, is no page, and is not echoed.
    let Ok(key @ PersonKey::Id(_)) = PersonKey::parse(&raw) else {
        return Err(error_page(
            Some(user),
            StatusCode::NOT_FOUND,
            t.get("error.not_found").to_owned(),
        ));
    };
    let found = person_history::of(&state.db, &user, &key, t.0).await;
    let h = found.map_err(|e| app_error_page(Some(user.clone()), e))?;
    let read = Read::new(&user, &source, Action::RosterHistory);
    state.access_log.record(read.person(h.person.id)).await;
    let openable = openable_imports(&state, &user, &h)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let here = format!("/persons/{}/roster-history", h.person.id);
    let page = Page::new("history.title", Some(user.clone()), &here);
    let rows = h
        .entries
        .into_iter()
        .map(|e| EntryRow {
            group: if e.group_label.is_empty() {
                e.group.clone()
            } else {
                e.group_label
            },
            region_code: e.region_code,
            name_on_roster: e.name_on_roster,
            valid_from: e.valid_from.to_string(),
            valid_to: e.valid_to.map(|d| d.to_string()),
            extra: extra_pairs(e.extra.as_ref()),
            imports: [
                ("history.added_by", e.added_by),
                ("history.changed_by", e.changed_by),
                ("history.ended_by", e.ended_by),
            ]
            .into_iter()
            .filter_map(|(role, i)| i.map(|i| import_line(t, role, i, &openable)))
            .collect(),
            changes: e
                .changes
                .into_iter()
                .map(|c| ChangeLine {
                    kind: t.get(match c.kind.as_str() {
                        "ended" => "history.change_ended",
                        "reverted" => "history.change_reverted",
                        _ => "history.change_updated",
                    }),
                    import: c.import.map(|i| i.id),
                    when: fmt::at(&c.changed_at),
                    before: values_text(&c.before),
                    after: values_text(&c.after),
                })
                .collect(),
        })
        .collect();
    Ok(render(&HistoryPage {
        page,
        person: h.person,
        rows,
        partial_scope: user.region.as_str() != super::province().as_str(),
    }))
}

/// The imports of the history whose own page the user may open: a clerk's or an
/// administrator's, within what the import list shows them. Others see the import's facts
/// without a link that would answer 403 or 404.
async fn openable_imports(
    state: &AppState,
    user: &CurrentUser,
    h: &RosterHistory,
) -> AppResult<HashSet<i64>> {
    let ids = h.import_ids();
    let may_open = access::ROSTER_IMPORTER.admits(&user.roles, &user.region, &super::province());
    if ids.is_empty() || !may_open {
        return Ok(HashSet::new());
    }
    Ok(roster_import::Entity::find()
        .filter(roster_import::COLUMN.id.is_in(ids))
        .filter(history::visible(user))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect())
}

fn import_line(t: Tr, role: &'static str, i: ImportRef, openable: &HashSet<i64>) -> ImportLine {
    ImportLine {
        role: t.get(role),
        link: openable.contains(&i.id),
        id: i.id,
        mode: match Mode::parse(&i.mode) {
            Some(Mode::Full) => t.get("roster.mode_full"),
            _ => t.get("roster.mode_incremental"),
        },
        who: i
            .uploaded_by
            .as_ref()
            .map_or_else(|| t.get("history.cli").to_owned(), |u| u.shown().to_owned()),
        when: fmt::at(&i.uploaded_at),
        activated_by: i.activated_by.as_ref().map(|u| u.shown().to_owned()),
        effective_date: i.effective_date.to_string(),
        file_name: i.file_name,
    }
}

/// An entry's values in one line: period, region, name on the roster.
fn values_text(v: &crate::roster::person_history::EntryValues) -> String {
    format!(
        "{} ~ {} · {} · {}",
        v.valid_from,
        v.valid_to.map(|d| d.to_string()).unwrap_or_default(),
        super::regions().name(v.region_code.as_str()),
        v.name_on_roster
    )
}

/// The roster's other columns as (column, value). A value that looks like an ID or bank
/// number (a household member's, say) is masked: the page shows no whole ID number.
fn extra_pairs(extra: Option<&serde_json::Value>) -> Vec<(String, String)> {
    let Some(serde_json::Value::Object(map)) = extra else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), mask_long_number(&text))
        })
        .collect()
}

/// `220102********1234` for 15 to 19 digits (an 18-character ID number may end in X); any
/// other text as it is.
fn mask_long_number(s: &str) -> String {
    let t = s.trim();
    let chars: Vec<char> = t.chars().collect();
    let n = chars.len();
    let digits = (15..=19).contains(&n)
        && chars[..n - 1].iter().all(char::is_ascii_digit)
        && (chars[n - 1].is_ascii_digit() || chars[n - 1] == 'X' || chars[n - 1] == 'x');
    if !digits {
        return s.to_owned();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[n - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(n - 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_in_extra_data_are_masked() {
        assert_eq!(mask_long_number("11010519491231002X"), "110105********002X");
        assert_eq!(
            mask_long_number("6222020200112233445"),
            "622202*********3445"
        );
        assert_eq!(mask_long_number("3"), "3");
        assert_eq!(mask_long_number("张三"), "张三");
        let pairs = extra_pairs(Some(
            &serde_json::json!({"户主身份证号": "22010219800101001X"}),
        ));
        assert_eq!(
            pairs,
            vec![("户主身份证号".to_owned(), "220102********001X".to_owned())]
        );
        let pairs = extra_pairs(Some(&serde_json::json!({"人口": 3})));
        assert_eq!(pairs, vec![("人口".to_owned(), "3".to_owned())]);
    }
}
