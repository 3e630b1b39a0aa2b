//! Reading batches back: a page of them, or one with a page of its lines.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use entity::{payment_batch, payment_line, person, visit};

use super::BatchState;
use super::view::{BatchDetail, BatchView, LineView};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, current_lang};

/// A page of the batches inside the user's scope, newest first.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    state: Option<BatchState>,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<BatchView>, u64)> {
    let mut q = payment_batch::Entity::find().filter(user.scope(payment_batch::Column::RegionCode));
    if let Some(s) = state {
        q = q.filter(payment_batch::Column::State.eq(s));
    }
    let total = q.clone().count(db).await?;
    let lang = current_lang();
    let rows = q
        .order_by_desc(payment_batch::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows.iter().map(|b| BatchView::of(b, lang)).collect(), total))
}

/// One batch with a page of its lines, in the order they were taken.
pub async fn get(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    page: u64,
    per_page: u64,
) -> AppResult<BatchDetail> {
    let b = payment_batch::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|b| super::batch::visible(user, b).unwrap_or(false))
        .ok_or_else(|| AppError::not_found("payment_batch", id))?;
    let lines = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(id))
        .order_by_asc(payment_line::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let names: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(lines.iter().map(|l| l.person_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let days: HashMap<i64, chrono::NaiveDate> = visit::Entity::find()
        .filter(visit::Column::Id.is_in(lines.iter().map(|l| l.visit_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.counted_on))
        .collect();
    let lines = lines
        .iter()
        .filter_map(|l| {
            let day = days.get(&l.visit_id)?;
            let name = names.get(&l.person_id).cloned().unwrap_or_default();
            Some(LineView::of(l, name, *day))
        })
        .collect();
    Ok(BatchDetail {
        batch: BatchView::of(&b, current_lang()),
        lines,
        page,
        per_page,
    })
}
