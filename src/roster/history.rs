//! Which imports a user may see, and their history: one listing for the API and the pages, so
//! both show the same imports in the same order.

use std::collections::HashMap;

use sea_orm::ColumnTrait;
use sea_orm::{
    Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::roster_import;

use crate::auth::CurrentUser;
use crate::domain::Lang;
use crate::error::{AppError, AppResult};
use crate::roster::status::Status;

/// Imports the user may see: their own, and those of regions inside their scope.
/// An import without a region parameter may touch any region, so only a province-wide user
/// sees other people's.
pub fn visible(user: &CurrentUser) -> Condition {
    let mut c = Condition::any()
        .add(roster_import::COLUMN.created_by.eq(user.id))
        .add(user.scope(roster_import::Column::RegionCode));
    if user.region.as_str().len() == 2 {
        c = c.add(roster_import::COLUMN.region_code.is_null());
    }
    c
}

/// One import the user may see; any other is "not found", so scope does not leak what exists.
pub async fn find_visible<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    id: i64,
) -> AppResult<roster_import::Model> {
    roster_import::Entity::find_by_id(id)
        .filter(visible(user))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("roster_import", id))
}

/// A page of the imports the user may see, newest first, optionally of one status, and how
/// many there are in all. `page` starts at 1.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    status: Option<Status>,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<roster_import::Model>, u64)> {
    let mut query = roster_import::Entity::find().filter(visible(user));
    if let Some(s) = status {
        query = query.filter(roster_import::COLUMN.status.eq(s));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(roster_import::COLUMN.id)
        .offset((page.max(1) - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// The names of the uploaders of `imports` (display name, else login name), by user id.
pub async fn uploader_names<C: ConnectionTrait>(
    db: &C,
    imports: &[roster_import::Model],
) -> AppResult<HashMap<i64, String>> {
    let ids: Vec<i64> = imports.iter().filter_map(|m| m.created_by).collect();
    crate::users::names(db, ids).await
}

/// A failed import's stored message (`"中文 / English"`, as the run records it) in one language;
/// a message of another shape is shown whole.
pub fn failure_in(stored: &str, lang: Lang) -> &str {
    match stored.split_once(" / ") {
        Some((zh, en)) => lang.pick(zh, en),
        None => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_shown_in_the_page_language() {
        let stored = "文件为空。 / The file is empty.";
        assert_eq!(failure_in(stored, Lang::Zh), "文件为空。");
        assert_eq!(failure_in(stored, Lang::En), "The file is empty.");
        assert_eq!(failure_in("odd", Lang::En), "odd");
    }
}
