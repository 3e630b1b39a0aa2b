//! The public notice (公示) of an approved batch and the objections raised during it. The first
//! time the notice is produced its period starts (today, for as long as the settings say);
//! objections are recorded against a line while it runs and hold the line out of the batch
//! until a manager resolves them: upheld, the line leaves the batch and its subsidy is payable
//! again; dismissed, it is back. The bank file waits for the period's end with no objection
//! open (`bank_file`). A notice never shows the diagnosis: only the masked name and ID number,
//! the county, the group and the amount.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use entity::payment_objection::State as ObjectionState;
use entity::{payment_batch, payment_line, payment_objection, person, region, visit};

use super::BatchState;
use super::batch::held;
use super::notice_rules::{NoticeRules, notice_id};
use super::queries::LinesOf;
use super::refusal::PaymentRefusal;
use super::view::{BatchView, ObjectionView, Totals};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::{Group, Lang, Money};
use crate::error::{AppError, AppResult, current_lang};

/// One line of a notice.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NoticeEntry {
    /// 序号.
    pub seq: usize,
    /// The line's reference (objections name it).
    pub line_id: i64,
    /// The name, masked by the notice's rule.
    pub name: String,
    /// The ID number, masked.
    pub id_number: String,
    /// The county (区县) the person lives in.
    pub place: String,
    /// The group's label.
    pub group: String,
    /// Amount.
    pub amount: Money,
    /// Held out of the batch by an open objection.
    pub held: bool,
}

/// A batch's notice.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Notice {
    /// The batch.
    pub batch: BatchView,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub until: NaiveDate,
    /// The complaint telephone.
    pub phone: String,
    /// Who publishes it.
    pub issuer: String,
    /// The lines, in the batch's order.
    pub entries: Vec<NoticeEntry>,
    /// Their count and sum.
    pub totals: Totals,
}

/// Opens a batch's notice: the first time, its period starts (audited). Returns the batch and
/// which of its lines the notice shows: those it holds, and after export what went to the bank,
/// failed lines included.
async fn open(
    db: &DatabaseConnection,
    user: &CurrentUser,
    rules: &NoticeRules,
    id: i64,
) -> AppResult<(payment_batch::Model, LinesOf)> {
    let txn = crate::db::begin_write(db).await?;
    let mut b = held(&txn, user, id).await?;
    match (b.state, b.notice_from) {
        (BatchState::Approved, None) => {
            let from = user.today();
            let until = rules.period.until(from, &rules.calendar);
            let before = serde_json::json!({"state": b.state, "version": b.version});
            let mut am: payment_batch::ActiveModel = b.clone().into();
            am.notice_from = Set(Some(from));
            am.notice_until = Set(Some(until));
            am.noticed_by = Set(Some(user.id));
            am.version = Set(b.version + 1);
            b = am.update(&txn).await?;
            audit::record(
                &txn,
                &user.actor(),
                Change {
                    action: "payment_batch.notice",
                    entity_type: "payment_batch",
                    entity_id: id.to_string(),
                    before: Some(before),
                    after: Some(serde_json::json!({
                        "version": b.version, "notice_from": from, "notice_until": until,
                    })),
                },
            )
            .await?;
        }
        (BatchState::Approved | BatchState::Exported | BatchState::Reconciled, Some(_)) => {}
        _ => {
            let verb = Lang::pick(current_lang(), "公示", "publicly noticed");
            return Err(PaymentRefusal::not_allowed(&b, verb).into());
        }
    }
    // The write (if any) is done: the lines are read without holding the write lock.
    txn.commit().await?;
    let which = match b.state {
        BatchState::Approved => LinesOf::Held,
        _ => LinesOf::Exported,
    };
    Ok((b, which))
}

/// The notice of a batch, every line at once (the page and the JSON); producing it the first
/// time starts its period.
pub async fn notice(
    db: &DatabaseConnection,
    user: &CurrentUser,
    rules: &NoticeRules,
    id: i64,
) -> AppResult<Notice> {
    let (b, which) = open(db, user, rules, id).await?;
    let lines = super::queries::lines(db, id, which).await?;
    let entries = entries(db, rules, &lines, 1).await?;
    let sum: i64 = lines.iter().map(|l| l.amount_fen).sum();
    Ok(Notice {
        batch: BatchView::of(&b, current_lang()),
        from: b.notice_from.unwrap_or_default(),
        until: b.notice_until.unwrap_or_default(),
        phone: rules.phone.clone(),
        issuer: rules.issuer.clone(),
        totals: Totals::of(lines.len() as i64, sum),
        entries,
    })
}

/// How many lines the notice workbook reads and writes at a time.
const PIECE: u64 = 2_000;

/// The notice as a workbook (see `notice_sheet`), written a piece of lines at a time into an
/// anonymous temporary file, so its memory does not grow with the batch; with the batch number.
pub async fn notice_file(
    db: &DatabaseConnection,
    user: &CurrentUser,
    rules: &NoticeRules,
    id: i64,
    title: &str,
) -> AppResult<(std::fs::File, String)> {
    let (b, which) = open(db, user, rules, id).await?;
    let mut sheet = super::notice_sheet::NoticeSheet::new(&[
        title.to_owned(),
        format!("批次号：{}", b.batch_no),
        format!(
            "公示期：{} 至 {}",
            b.notice_from.unwrap_or_default(),
            b.notice_until.unwrap_or_default()
        ),
        format!("异议电话：{}", rules.phone),
    ])?;
    let (mut after, mut count, mut sum) = (0, 0usize, 0i64);
    loop {
        let lines = super::queries::lines_after(db, id, which, after, PIECE).await?;
        let Some(last) = lines.last() else { break };
        after = last.id;
        sheet.add(&entries(db, rules, &lines, count + 1).await?)?;
        count += lines.len();
        sum += lines.iter().map(|l| l.amount_fen).sum::<i64>();
    }
    let file = sheet
        .finish(&Totals::of(count as i64, sum), &rules.issuer)
        .await?;
    Ok((file, b.batch_no))
}

/// The notice's entries of `lines`, numbered from `first_seq`.
async fn entries(
    txn: &DatabaseConnection,
    rules: &NoticeRules,
    lines: &[payment_line::Model],
    first_seq: usize,
) -> AppResult<Vec<NoticeEntry>> {
    let mut people: HashMap<i64, person::Model> = HashMap::new();
    let mut groups: HashMap<i64, String> = HashMap::new();
    for chunk in lines.chunks(500) {
        for p in person::Entity::find()
            .filter(person::Column::Id.is_in(chunk.iter().map(|l| l.person_id)))
            .all(txn)
            .await?
        {
            people.insert(p.id, p);
        }
        for v in visit::Entity::find()
            .filter(visit::Column::Id.is_in(chunk.iter().map(|l| l.visit_id)))
            .all(txn)
            .await?
        {
            groups.insert(v.id, v.group_code);
        }
    }
    let codes: Vec<String> = {
        let mut c: Vec<String> = people.values().map(|p| p.region_code.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let mut places: HashMap<String, String> = HashMap::new();
    for chunk in codes.chunks(500) {
        for r in region::Entity::find()
            .filter(region::Column::Code.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            places.insert(r.code, r.name);
        }
    }
    // The notice is posted for the public in Chinese, whatever language asked for it.
    let lang = Lang::Zh;
    Ok(lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let p = people.get(&l.person_id);
            let region = p.map(|p| p.region_code.clone()).unwrap_or_default();
            NoticeEntry {
                seq: first_seq + i,
                line_id: l.id,
                name: p
                    .map(|p| rules.name_mask.apply(&p.name))
                    .unwrap_or_default(),
                id_number: p.map(|p| notice_id(&p.id_number)).unwrap_or_default(),
                place: places.get(&region).cloned().unwrap_or(region),
                group: groups
                    .get(&l.visit_id)
                    .and_then(|g| Group::parse(g).ok())
                    .map(|g| g.label(lang).to_owned())
                    .unwrap_or_default(),
                amount: Money::from_fen(l.amount_fen),
                held: l.held,
            }
        })
        .collect())
}

/// Records an objection to a line while the batch's notice runs; the line is held.
pub async fn object(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    line_id: i64,
    reason: String,
) -> AppResult<ObjectionView> {
    let txn = crate::db::begin_write(db).await?;
    let b = held(&txn, user, id).await?;
    let today = user.today();
    let running =
        matches!((b.notice_from, b.notice_until), (Some(f), Some(u)) if f <= today && today <= u);
    if b.state != BatchState::Approved || !running {
        return Err(PaymentRefusal::NoticeNotRunning {
            until: b.notice_until,
        }
        .into());
    }
    let line = payment_line::Entity::find_by_id(line_id)
        .one(&txn)
        .await?
        .filter(|l| l.batch_id == id && l.released_at.is_none())
        .ok_or_else(|| AppError::not_found("payment_line", line_id))?;
    let o = payment_objection::ActiveModel {
        batch_id: Set(id),
        line_id: Set(line.id),
        state: Set(ObjectionState::Open),
        reason: Set(reason),
        raised_by: Set(user.id),
        raised_at: Set(user.now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut am: payment_line::ActiveModel = line.into();
    am.held = Set(true);
    am.update(&txn).await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "payment_batch.objection",
            entity_type: "payment_batch",
            entity_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "objection": o.id, "line_id": line_id, "reason": o.reason,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ObjectionView::of(&o, current_lang()))
}

/// Resolves an open objection: upheld, its line leaves the batch (the batch's totals drop and
/// the subsidy is payable again); dismissed, the line is back unless another objection to it
/// is open.
pub async fn resolve(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    objection_id: i64,
    upheld: bool,
    resolution: String,
) -> AppResult<ObjectionView> {
    let txn = crate::db::begin_write(db).await?;
    let b = held(&txn, user, id).await?;
    let o = payment_objection::Entity::find_by_id(objection_id)
        .one(&txn)
        .await?
        .filter(|o| o.batch_id == id)
        .ok_or_else(|| AppError::not_found("payment_objection", objection_id))?;
    if o.state != ObjectionState::Open {
        return Err(PaymentRefusal::ObjectionResolved { id: objection_id }.into());
    }
    if b.state != BatchState::Approved {
        let verb = Lang::pick(current_lang(), "处理异议", "have objections resolved");
        return Err(PaymentRefusal::not_allowed(&b, verb).into());
    }
    let line = payment_line::Entity::find_by_id(o.line_id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("objection {objection_id} names no line"))?;
    let mut oam: payment_objection::ActiveModel = o.clone().into();
    oam.state = Set(if upheld {
        ObjectionState::Upheld
    } else {
        ObjectionState::Dismissed
    });
    oam.resolved_by = Set(Some(user.id));
    oam.resolved_at = Set(Some(user.now));
    oam.resolution = Set(Some(resolution));
    let o = oam.update(&txn).await?;
    let others_open = payment_objection::Entity::find()
        .filter(payment_objection::Column::LineId.eq(line.id))
        .filter(payment_objection::Column::State.eq(ObjectionState::Open))
        .count(&txn)
        .await?;
    if upheld && line.released_at.is_none() {
        let mut bam: payment_batch::ActiveModel = b.clone().into();
        bam.line_count = Set(b.line_count - 1);
        bam.total_fen = Set(b.total_fen - line.amount_fen);
        bam.version = Set(b.version + 1);
        bam.update(&txn).await?;
        let mut lam: payment_line::ActiveModel = line.clone().into();
        lam.released_at = Set(Some(user.now));
        lam.update(&txn).await?;
    } else if !upheld && others_open == 0 {
        let mut lam: payment_line::ActiveModel = line.clone().into();
        lam.held = Set(false);
        lam.update(&txn).await?;
    }
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "payment_batch.objection_resolve",
            entity_type: "payment_batch",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({"objection": o.id, "state": ObjectionState::Open})),
            after: Some(serde_json::json!({
                "objection": o.id, "line_id": line.id, "state": o.state,
                "resolution": o.resolution, "amount_fen": line.amount_fen,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ObjectionView::of(&o, current_lang()))
}

/// The objections of a batch, oldest first.
pub async fn objections(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
) -> AppResult<Vec<ObjectionView>> {
    super::batch::seen(db, user, id).await?;
    let lang = current_lang();
    Ok(payment_objection::Entity::find()
        .filter(payment_objection::Column::BatchId.eq(id))
        .order_by_asc(payment_objection::Column::Id)
        .limit(10_000)
        .all(db)
        .await?
        .iter()
        .map(|o| ObjectionView::of(o, lang))
        .collect())
}

/// Whether the bank file may be produced: the notice ran to its end and no objection is open.
pub(super) async fn ready_to_export(
    txn: &DatabaseTransaction,
    b: &payment_batch::Model,
    today: NaiveDate,
) -> AppResult<()> {
    let Some(until) = b.notice_until else {
        return Err(PaymentRefusal::NoNotice.into());
    };
    if today <= until {
        return Err(PaymentRefusal::NoticeRunning { until }.into());
    }
    let open = payment_objection::Entity::find()
        .filter(payment_objection::Column::BatchId.eq(b.id))
        .filter(payment_objection::Column::State.eq(ObjectionState::Open))
        .count(txn)
        .await?;
    if open > 0 {
        return Err(PaymentRefusal::ObjectionsOpen { count: open }.into());
    }
    Ok(())
}
