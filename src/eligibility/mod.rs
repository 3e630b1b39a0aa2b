//! Eligibility (救助资格): loads the facts about a person in one query and applies the rules of
//! [`rules`]. Used by `GET /api/v1/eligibility` and, inside their transactions, by opening,
//! approving and resubmitting cases.

pub mod rules;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement, SubQueryStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use serde::Serialize;

use entity::{annual_grant, case, person, roster_entry, roster_import, subsidy_policy};

use crate::case::workflow::BLOCKING;
use crate::config::Settings;
use crate::domain::{Diagnosis, Group, IdNumber, Lang, Localized, Money, PolicyCap, RegionPrefix};
use crate::error::{self, Msg};

pub use rules::{Assessment, Facts, Question, Reason};
use rules::{EntryFacts, ImportRef, PersonFacts};

/// What to check: a person on a day, for a case year, optionally with a diagnosis and the
/// name the applicant gave.
#[derive(Debug, Clone, Copy)]
pub struct Inquiry<'a> {
    /// The person.
    pub id_number: &'a IdNumber,
    /// The day a roster entry must cover.
    pub date: NaiveDate,
    /// The case year: open cases and the annual cap count per calendar year.
    pub year: i32,
    /// The diagnosis, when known.
    pub diagnosis: Option<&'a Diagnosis>,
    /// The name the applicant gave, when opening a case.
    pub name: Option<&'a str>,
    /// A case not to count as "another open case" (the one being approved or resubmitted).
    pub exclude_case: Option<i64>,
    /// The asking user's region scope: a person living outside it is not read at all, so
    /// the answer is the one for an ID number no roster lists (scope never leaks who is on a
    /// roster elsewhere).
    pub scope: &'a RegionPrefix,
}

/// The facts and the answer.
#[derive(Debug, Clone)]
pub struct Eligibility {
    /// What the rules looked at.
    pub facts: Facts,
    /// What they said.
    pub assessment: Assessment,
}

/// Loads the facts about a person and applies the rules, on any connection (a transaction
/// included, so that a case is decided on the facts it commits with).
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    settings: &Settings,
    q: &Inquiry<'_>,
) -> Result<Eligibility, DbErr> {
    let facts = load(conn, q).await?;
    let assessment = rules::assess(
        &facts,
        &Question {
            date: q.date,
            year: q.year,
            diagnosis: q.diagnosis,
            name: q.name,
        },
        &rules::Rules {
            province: &settings.province,
            diagnoses: &settings.diagnosis_ranges,
        },
    );
    Ok(Eligibility { facts, assessment })
}

/// Reads the person, every roster entry with its import and the policies in force for its
/// group, the blocking case of the year and the amount granted, in one statement: a look-up
/// at the counter costs one round trip, however long the person's history.
fn statement(q: &Inquiry<'_>) -> SelectStatement {
    let (p, e, i, sp, c, g) = (
        Alias::new("p"),
        Alias::new("e"),
        Alias::new("i"),
        Alias::new("sp"),
        Alias::new("c"),
        Alias::new("g"),
    );
    let open_case = Query::select()
        .expr(Func::min(Expr::col((c.clone(), case::Column::Id))))
        .from_as(case::Entity, c.clone())
        .and_where(
            Expr::col((c.clone(), case::Column::PersonId)).equals((p.clone(), person::Column::Id)),
        )
        .and_where(Expr::col((c.clone(), case::Column::Year)).eq(q.year))
        .and_where(Expr::col((c.clone(), case::Column::State)).is_in(BLOCKING.map(|s| s.code())))
        .and_where(Expr::col((c.clone(), case::Column::Id)).ne(q.exclude_case.unwrap_or(0)))
        .to_owned();
    let granted = Query::select()
        .column((g.clone(), annual_grant::Column::GrantedFen))
        .from_as(annual_grant::Entity, g.clone())
        .and_where(
            Expr::col((g.clone(), annual_grant::Column::PersonId))
                .equals((p.clone(), person::Column::Id)),
        )
        .and_where(Expr::col((g.clone(), annual_grant::Column::Year)).eq(q.year))
        .to_owned();

    let mut select = Query::select();
    select
        .from_as(person::Entity, p.clone())
        .expr_as(Expr::col((p.clone(), person::Column::Id)), "p_id")
        .expr_as(Expr::col((p.clone(), person::Column::Name)), "p_name")
        .expr_as(Expr::col((p.clone(), person::Column::Sex)), "p_sex")
        .expr_as(Expr::col((p.clone(), person::Column::BirthDate)), "p_birth")
        .expr_as(
            Expr::col((p.clone(), person::Column::RegionCode)),
            "p_region",
        )
        .expr_as(Expr::col((e.clone(), roster_entry::Column::Id)), "e_id")
        .expr_as(
            Expr::col((e.clone(), roster_entry::Column::GroupCode)),
            "e_group",
        )
        .expr_as(
            Expr::col((e.clone(), roster_entry::Column::RegionCode)),
            "e_region",
        )
        .expr_as(
            Expr::col((e.clone(), roster_entry::Column::NameOnRoster)),
            "e_name",
        )
        .expr_as(
            Expr::col((e.clone(), roster_entry::Column::ValidFrom)),
            "e_from",
        )
        .expr_as(
            Expr::col((e.clone(), roster_entry::Column::ValidTo)),
            "e_to",
        )
        .expr_as(Expr::col((i.clone(), roster_import::Column::Id)), "i_id")
        .expr_as(
            Expr::col((i.clone(), roster_import::Column::FileName)),
            "i_file",
        )
        .expr_as(
            Expr::col((i.clone(), roster_import::Column::EffectiveDate)),
            "i_date",
        )
        .expr_as(
            Expr::col((i.clone(), roster_import::Column::Mode)),
            "i_mode",
        )
        .expr_as(
            Expr::col((sp.clone(), subsidy_policy::Column::AnnualCapFen)),
            "sp_cap",
        )
        .expr_as(
            Expr::col((sp.clone(), subsidy_policy::Column::EffectiveFrom)),
            "sp_from",
        )
        .expr_as(
            Expr::SubQuery(
                None,
                Box::new(SubQueryStatement::SelectStatement(open_case)),
            ),
            "open_case",
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(granted))),
            "granted",
        )
        .join_as(
            JoinType::LeftJoin,
            roster_entry::Entity,
            e.clone(),
            Expr::col((e.clone(), roster_entry::Column::PersonId))
                .equals((p.clone(), person::Column::Id)),
        )
        // The import an entry came from is the last one that wrote it.
        .join_as(
            JoinType::LeftJoin,
            roster_import::Entity,
            i.clone(),
            Expr::col((i.clone(), roster_import::Column::Id)).eq(Func::coalesce([
                Expr::col((e.clone(), roster_entry::Column::UpdatedByImportId)),
                Expr::col((e.clone(), roster_entry::Column::CreatedByImportId)),
            ])),
        )
        .join_as(
            JoinType::LeftJoin,
            subsidy_policy::Entity,
            sp.clone(),
            Expr::col((sp.clone(), subsidy_policy::Column::GroupCode))
                .equals((e.clone(), roster_entry::Column::GroupCode))
                .and(Expr::col((sp.clone(), subsidy_policy::Column::EffectiveFrom)).lte(q.date))
                .and(
                    Expr::col((sp.clone(), subsidy_policy::Column::EffectiveTo))
                        .is_null()
                        .or(Expr::col((sp.clone(), subsidy_policy::Column::EffectiveTo))
                            .gte(q.date)),
                ),
        )
        .and_where(Expr::col((p.clone(), person::Column::IdNumber)).eq(q.id_number.as_str()))
        .and_where(crate::db::region_within(
            Expr::col((p.clone(), person::Column::RegionCode)),
            q.scope,
        ))
        .order_by((e.clone(), roster_entry::Column::ValidFrom), Order::Desc)
        .order_by((e, roster_entry::Column::Id), Order::Desc);
    select
}

/// The values of [`statement`] in the order its placeholders appear.
fn values(q: &Inquiry<'_>) -> Vec<Value> {
    let mut v: Vec<Value> = vec![q.year.into()];
    v.extend(BLOCKING.map(|s| Value::from(s.code())));
    v.extend([
        q.exclude_case.unwrap_or(0).into(),
        q.year.into(),
        q.date.into(),
        q.date.into(),
        q.id_number.as_str().into(),
        crate::db::scope_len(q.scope).into(),
        q.scope.as_str().into(),
    ]);
    v
}

/// The SQL of [`statement`] for a backend, written once: putting the statement together
/// through the query builder costs as much as running it, and only its values change from
/// one look-up to the next.
fn sql(backend: DbBackend) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static OTHER: OnceLock<String> = OnceLock::new();
    let cell = match backend {
        DbBackend::Sqlite => &SQLITE,
        _ => &OTHER,
    };
    cell.get_or_init(|| {
        let id = IdNumber::parse("11010519491231002X").expect("a valid example");
        let scope = RegionPrefix::parse("22").expect("a valid prefix");
        let example = Inquiry {
            scope: &scope,
            id_number: &id,
            date: NaiveDate::default(),
            year: 0,
            diagnosis: None,
            name: None,
            exclude_case: None,
        };
        backend.build(&statement(&example)).sql
    })
}

async fn load<C: ConnectionTrait>(conn: &C, q: &Inquiry<'_>) -> Result<Facts, DbErr> {
    let backend = conn.get_database_backend();
    let stmt = Statement::from_sql_and_values(backend, sql(backend), values(q));
    let rows = conn.query_all_raw(stmt).await?;
    facts_of(&rows)
}

fn facts_of(rows: &[QueryResult]) -> Result<Facts, DbErr> {
    let mut facts = Facts::default();
    let Some(first) = rows.first() else {
        return Ok(facts);
    };
    facts.person = Some(PersonFacts {
        id: first.try_get("", "p_id")?,
        name: first.try_get("", "p_name")?,
        sex: first.try_get("", "p_sex")?,
        birth_date: first.try_get("", "p_birth")?,
        region_code: first.try_get("", "p_region")?,
    });
    facts.open_case = first.try_get("", "open_case")?;
    facts.granted = Money::from_fen(first.try_get::<Option<i64>>("", "granted")?.unwrap_or(0));
    for row in rows {
        let Some(id) = row.try_get::<Option<i64>>("", "e_id")? else {
            continue;
        };
        let group_code: String = row.try_get("", "e_group")?;
        if let (Some(cap), Ok(group)) = (
            row.try_get::<Option<i64>>("", "sp_cap")?,
            Group::parse(&group_code),
        ) {
            facts.caps.push(PolicyCap {
                group,
                annual_cap: Money::from_fen(cap),
                effective_from: row.try_get("", "sp_from")?,
            });
        }
        // An entry meets several policies in force at once only while policies overlap.
        if facts.entries.last().is_some_and(|e| e.id == id) {
            continue;
        }
        let import = match row.try_get::<Option<i64>>("", "i_id")? {
            Some(import_id) => Some(ImportRef {
                id: import_id,
                file_name: row.try_get("", "i_file")?,
                effective_date: row.try_get("", "i_date")?,
                mode: row.try_get("", "i_mode")?,
            }),
            None => None,
        };
        facts.entries.push(EntryFacts {
            id,
            group_code,
            region_code: row.try_get("", "e_region")?,
            name_on_roster: row.try_get("", "e_name")?,
            valid_from: row.try_get("", "e_from")?,
            valid_to: row.try_get("", "e_to")?,
            import,
        });
    }
    facts.caps.dedup();
    Ok(facts)
}

/// A roster entry as an answer or a case's evidence shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    /// Entry id.
    pub id: i64,
    /// Group code.
    pub group: String,
    /// Group label.
    pub group_label: String,
    /// Region on the roster.
    pub region_code: String,
    /// Name on the roster.
    pub name_on_roster: String,
    /// First covered day.
    pub valid_from: NaiveDate,
    /// Last covered day.
    pub valid_to: Option<NaiveDate>,
    /// The import it came from.
    pub import: Option<ImportRef>,
}

/// A group with its label.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    /// Code.
    pub code: Group,
    /// Label.
    pub label: &'static str,
}

/// A rule and how it came out.
pub type CheckView = rules::Check;

/// A decision as a case keeps it: the day, the entries relied on, every rule and its outcome,
/// and the configuration applied. It is written once, when the decision is made, and never
/// recomputed, so a case shows why it was decided as it was even after the rosters change.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// When decided.
    pub decided_at: DateTime<Utc>,
    /// By which step: open, resubmit or approve.
    pub step: String,
    /// The day checked.
    pub date: NaiveDate,
    /// The case year.
    pub year: i32,
    /// Whether every rule held.
    pub eligible: bool,
    /// Groups of the covering entries.
    pub groups: Vec<GroupView>,
    /// The covering entries.
    pub entries: Vec<EntryView>,
    /// Every rule and its outcome.
    pub rules: Vec<CheckView>,
    /// The diagnosis checked.
    pub diagnosis: Option<String>,
    /// The province prefix applied.
    pub province: String,
    /// The covered ICD-10 ranges applied.
    pub diagnosis_ranges: String,
    /// The annual cap that applied (none: no policy is in force for the groups).
    pub annual_cap: Option<Money>,
    /// Granted in the year at the time.
    pub granted: Money,
    /// What was left of the cap at the time.
    pub cap_left: Option<Money>,
}

impl Eligibility {
    /// The entries that cover the day, newest first.
    pub fn covering(&self, lang: Lang) -> Vec<EntryView> {
        self.assessment
            .covering
            .iter()
            .map(|i| self.entry_view(*i, lang))
            .collect()
    }

    /// The person's entries that do not cover the day (ended before it, or starting after),
    /// latest end first: why someone once on a roster is not covered now.
    pub fn not_covering(&self, lang: Lang) -> Vec<EntryView> {
        let mut out: Vec<EntryView> = (0..self.facts.entries.len())
            .filter(|i| !self.assessment.covering.contains(i))
            .map(|i| self.entry_view(i, lang))
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.valid_to, e.valid_from)));
        out
    }

    fn entry_view(&self, i: usize, lang: Lang) -> EntryView {
        let e = &self.facts.entries[i];
        EntryView {
            id: e.id,
            group: e.group_code.clone(),
            group_label: e.group().map(|g| g.label(lang)).unwrap_or("").to_owned(),
            region_code: e.region_code.clone(),
            name_on_roster: e.name_on_roster.clone(),
            valid_from: e.valid_from,
            valid_to: e.valid_to,
            import: e.import.clone(),
        }
    }

    /// The groups with labels.
    pub fn groups(&self, lang: Lang) -> Vec<GroupView> {
        self.assessment
            .groups
            .iter()
            .map(|g| GroupView {
                code: *g,
                label: g.label(lang),
            })
            .collect()
    }

    /// The failed rules as the error envelope carries them.
    pub fn reasons(&self) -> Vec<error::Reason> {
        self.assessment
            .reasons
            .iter()
            .map(|r| error::Reason::of(r))
            .collect()
    }

    /// The decision to keep with a case, taken at `decided_at`, in the programme's language
    /// (Chinese labels).
    pub fn evidence(
        &self,
        settings: &Settings,
        q: &Inquiry<'_>,
        step: &str,
        decided_at: DateTime<Utc>,
    ) -> Evidence {
        Evidence {
            decided_at,
            step: step.to_owned(),
            date: q.date,
            year: q.year,
            eligible: self.assessment.eligible,
            groups: self.groups(Lang::Zh),
            entries: self.covering(Lang::Zh),
            rules: self.assessment.checks.clone(),
            diagnosis: q.diagnosis.map(|d| d.to_string()),
            province: settings.province.to_string(),
            diagnosis_ranges: settings.diagnosis_ranges.to_string(),
            annual_cap: self.assessment.allowance.annual_cap,
            granted: self.assessment.allowance.granted,
            cap_left: self.assessment.allowance.cap_left,
        }
    }

    /// The refusal of a request that needs the person to be eligible: a 422 whose `reasons`
    /// list every failed rule.
    pub fn refusal(&self, code: &'static str, lead: Msg) -> error::AppError {
        let reasons = self.reasons();
        let join = |lang: Lang| {
            reasons
                .iter()
                .map(|r| r.message.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        error::AppError::Refused {
            code,
            message: Msg::new(
                format!("{}{}", lead.zh, join(Lang::Zh)),
                format!("{} {}", lead.en, join(Lang::En)),
            ),
            reasons,
            details: vec![],
        }
    }
}

/// The 422 for an ID number that is not one: the envelope's code is the rule's,
/// `invalid_id_number`, and the message says what is wrong with it.
pub fn invalid_id_number(e: &crate::domain::IdNumberError) -> error::AppError {
    let message = Msg::new(
        format!("身份证号码无效：{}", e.message(Lang::Zh)),
        format!("The ID number is not valid: {}.", e.message(Lang::En)),
    );
    error::AppError::Refused {
        code: "invalid_id_number",
        message: message.clone(),
        reasons: vec![error::Reason {
            code: "invalid_id_number",
            message: message.clone(),
        }],
        details: vec![error::FieldError::new("id_number", message)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_sql_and_values_are_what_the_builder_makes() {
        let id = IdNumber::parse("440524188001010014").unwrap();
        let q = Inquiry {
            id_number: &id,
            date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            year: 2026,
            diagnosis: None,
            name: None,
            exclude_case: Some(42),
            scope: &RegionPrefix::parse("2201").unwrap(),
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let built = backend.build(&statement(&q));
            assert_eq!(built.sql, sql(backend), "{backend:?}");
            let built_values = built.values.map(|v| v.0).unwrap_or_default();
            assert_eq!(built_values, values(&q), "{backend:?}");
        }
    }
}
