//! The whole data model of DESIGN.md in one first migration.
//!
//! Money is integer fen (BIGINT) everywhere, never a float or a database decimal: SQLite has no
//! exact decimal type, and fen behave the same on both backends. Enumerations are short strings,
//! so SQLite and PostgreSQL agree without native enum types.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Roles,
    RegionPrefix,
    Active,
    FailedLogins,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
    Name,
    ParentCode,
    Level,
    SuccessorCode,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    IdNumber,
    Name,
    Sex,
    BirthDate,
    RegionCode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Hospitals {
    Table,
    Id,
    Name,
    Code,
    RegionCode,
    Designated,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    Id,
    FileName,
    Sha256,
    FileSize,
    Format,
    GroupCode,
    RegionCode,
    Mode,
    EffectiveDate,
    Fingerprint,
    Status,
    RowsTotal,
    RowsDone,
    Accepted,
    Rejected,
    Skipped,
    Added,
    Updated,
    Ended,
    Sheets,
    Error,
    DuplicateOf,
    ClaimedBy,
    ClaimedAt,
    CreatedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum RosterImportFiles {
    Table,
    ImportId,
    Content,
}

#[derive(DeriveIden)]
enum RosterImportErrors {
    Table,
    Id,
    ImportId,
    Sheet,
    RowNumber,
    ColumnName,
    Value,
    Code,
    MessageZh,
    MessageEn,
    RowData,
}

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    Id,
    PersonId,
    GroupCode,
    RegionCode,
    NameOnRoster,
    ValidFrom,
    ValidTo,
    Extra,
    CreatedByImportId,
    UpdatedByImportId,
    EndedByImportId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    PersonId,
    Year,
    State,
    Version,
    ApplicantName,
    DiagnosisCode,
    DiagnosisText,
    HospitalId,
    Phone,
    Address,
    Note,
    RegionCode,
    Evidence,
    OpenedBy,
    DecidedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    ActorId,
    Action,
    FromState,
    ToState,
    Reason,
    At,
}

#[derive(DeriveIden)]
enum SubsidyPolicies {
    Table,
    Id,
    GroupCode,
    Rate,
    DeductibleFen,
    PerVisitCapFen,
    AnnualCapFen,
    EffectiveFrom,
    EffectiveTo,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Visits {
    Table,
    Id,
    CaseId,
    PersonId,
    HospitalId,
    PolicyId,
    GroupCode,
    RegionCode,
    Kind,
    AdmittedOn,
    DischargedOn,
    VisitDate,
    CountedOn,
    Year,
    InvoiceNo,
    TotalCostFen,
    InsurancePaidFen,
    CriticalIllnessPaidFen,
    MedicalAssistancePaidFen,
    OutOfPocketFen,
    SubsidyFen,
    CapReason,
    Status,
    ReversesVisitId,
    RecordedBy,
    ApprovedBy,
    ApprovedAt,
    PaidBy,
    PaidAt,
    PaymentRef,
    PaidOn,
    VoidedBy,
    VoidedAt,
    VoidReason,
    ReversalReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AnnualGrants {
    Table,
    PersonId,
    Year,
    GrantedFen,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorName,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
}

/// A foreign key from `from_table.from_col` to `to_table.id`.
fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for col in cols {
        stmt.col(col);
    }
    stmt
}

/// The id of a table that a roster import fills by the million. On SQLite a plain
/// `INTEGER PRIMARY KEY` (the rowid) without AUTOINCREMENT: AUTOINCREMENT reads and rewrites
/// `sqlite_sequence` at every insert statement, and these rows are never deleted, so the
/// never-reuse guarantee it buys is moot.
fn bulk_pk(m: &SchemaManager, col: impl IntoIden) -> ColumnDef {
    match m.get_database_backend() {
        sea_orm::DbBackend::Sqlite => ColumnDef::new(col)
            .integer()
            .not_null()
            .primary_key()
            .take(),
        _ => big_pk_auto(col),
    }
}

fn now_utc(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_uniq(Users::Username))
                .col(string(Users::DisplayName))
                .col(string(Users::PasswordHash))
                .col(string(Users::Roles))
                .col(string(Users::RegionPrefix))
                .col(boolean(Users::Active).default(true))
                .col(integer(Users::FailedLogins).default(0))
                .col(timestamp_with_time_zone_null(Users::LockedUntil))
                .col(now_utc(Users::CreatedAt))
                .col(now_utc(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(big_pk_auto(Sessions::Id))
                .col(string_uniq(Sessions::TokenHash))
                .col(big_integer(Sessions::UserId))
                .col(now_utc(Sessions::CreatedAt))
                .col(now_utc(Sessions::ExpiresAt))
                .foreign_key(&mut fk(
                    Sessions::Table,
                    Sessions::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_sessions_user",
            Sessions::Table,
            vec![Sessions::UserId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Regions::Table)
                .col(string(Regions::Code).primary_key())
                .col(string(Regions::Name))
                .col(string_null(Regions::ParentCode))
                .col(string(Regions::Level))
                .col(string_null(Regions::SuccessorCode))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Persons::Table)
                .col(bulk_pk(m, Persons::Id))
                .col(string_len_uniq(Persons::IdNumber, 18))
                .col(string(Persons::Name))
                .col(string_len(Persons::Sex, 8))
                .col(date(Persons::BirthDate))
                .col(string_len(Persons::RegionCode, 6))
                .col(now_utc(Persons::CreatedAt))
                .col(now_utc(Persons::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Hospitals::Table)
                .col(big_pk_auto(Hospitals::Id))
                .col(string(Hospitals::Name))
                .col(string_uniq(Hospitals::Code))
                .col(string_len(Hospitals::RegionCode, 6))
                .col(boolean(Hospitals::Designated).default(true))
                .col(now_utc(Hospitals::CreatedAt))
                .col(now_utc(Hospitals::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RosterImports::Table)
                .col(big_pk_auto(RosterImports::Id))
                .col(string(RosterImports::FileName))
                .col(string_len(RosterImports::Sha256, 64))
                .col(big_integer(RosterImports::FileSize))
                .col(string_len(RosterImports::Format, 8))
                .col(string_len_null(RosterImports::GroupCode, 24))
                .col(string_len_null(RosterImports::RegionCode, 6))
                .col(string_len(RosterImports::Mode, 16))
                .col(date(RosterImports::EffectiveDate))
                .col(string_len(RosterImports::Fingerprint, 64))
                .col(string_len(RosterImports::Status, 16))
                .col(big_integer(RosterImports::RowsTotal).default(0))
                .col(big_integer(RosterImports::RowsDone).default(0))
                .col(big_integer(RosterImports::Accepted).default(0))
                .col(big_integer(RosterImports::Rejected).default(0))
                .col(big_integer(RosterImports::Skipped).default(0))
                .col(big_integer(RosterImports::Added).default(0))
                .col(big_integer(RosterImports::Updated).default(0))
                .col(big_integer(RosterImports::Ended).default(0))
                .col(json_null(RosterImports::Sheets))
                .col(text_null(RosterImports::Error))
                .col(big_integer_null(RosterImports::DuplicateOf))
                .col(string_null(RosterImports::ClaimedBy))
                .col(timestamp_with_time_zone_null(RosterImports::ClaimedAt))
                .col(big_integer_null(RosterImports::CreatedBy))
                .col(now_utc(RosterImports::CreatedAt))
                .col(timestamp_with_time_zone_null(RosterImports::StartedAt))
                .col(timestamp_with_time_zone_null(RosterImports::FinishedAt))
                .foreign_key(&mut fk(
                    RosterImports::Table,
                    RosterImports::CreatedBy,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(&mut fk(
                    RosterImports::Table,
                    RosterImports::DuplicateOf,
                    RosterImports::Table,
                    RosterImports::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_roster_imports_fingerprint",
            RosterImports::Table,
            vec![RosterImports::Fingerprint.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "idx_roster_imports_status",
            RosterImports::Table,
            vec![RosterImports::Status.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(RosterImportFiles::Table)
                .col(big_integer(RosterImportFiles::ImportId).primary_key())
                .col(blob(RosterImportFiles::Content))
                .foreign_key(&mut fk(
                    RosterImportFiles::Table,
                    RosterImportFiles::ImportId,
                    RosterImports::Table,
                    RosterImports::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RosterImportErrors::Table)
                .col(bulk_pk(m, RosterImportErrors::Id))
                .col(big_integer(RosterImportErrors::ImportId))
                .col(string(RosterImportErrors::Sheet))
                .col(big_integer(RosterImportErrors::RowNumber))
                .col(string(RosterImportErrors::ColumnName))
                .col(text(RosterImportErrors::Value))
                .col(string_len(RosterImportErrors::Code, 48))
                .col(text(RosterImportErrors::MessageZh))
                .col(text(RosterImportErrors::MessageEn))
                .col(json_null(RosterImportErrors::RowData))
                .foreign_key(&mut fk(
                    RosterImportErrors::Table,
                    RosterImportErrors::ImportId,
                    RosterImports::Table,
                    RosterImports::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_roster_import_errors_import",
            RosterImportErrors::Table,
            vec![
                RosterImportErrors::ImportId.into_iden(),
                RosterImportErrors::Id.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(RosterEntries::Table)
                .col(bulk_pk(m, RosterEntries::Id))
                .col(big_integer(RosterEntries::PersonId))
                .col(string_len(RosterEntries::GroupCode, 24))
                .col(string_len(RosterEntries::RegionCode, 6))
                .col(string(RosterEntries::NameOnRoster))
                .col(date(RosterEntries::ValidFrom))
                .col(date_null(RosterEntries::ValidTo))
                .col(json_null(RosterEntries::Extra))
                .col(big_integer_null(RosterEntries::CreatedByImportId))
                .col(big_integer_null(RosterEntries::UpdatedByImportId))
                .col(big_integer_null(RosterEntries::EndedByImportId))
                .col(now_utc(RosterEntries::CreatedAt))
                .col(now_utc(RosterEntries::UpdatedAt))
                .foreign_key(&mut fk(
                    RosterEntries::Table,
                    RosterEntries::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                // The three import columns are provenance written only by the import itself,
                // inside its own transaction, and imports are never deleted: foreign keys on
                // them would check the same import row a million times per roster.
                .to_owned(),
        )
        .await?;
        // Eligibility: a person's entries of a group around a date.
        m.create_index(index(
            "idx_roster_entries_person_group_from",
            RosterEntries::Table,
            vec![
                RosterEntries::PersonId.into_iden(),
                RosterEntries::GroupCode.into_iden(),
                RosterEntries::ValidFrom.into_iden(),
            ],
        ))
        .await?;
        // Full imports: every entry of a scope (group + region prefix).
        m.create_index(index(
            "idx_roster_entries_group_region",
            RosterEntries::Table,
            vec![
                RosterEntries::GroupCode.into_iden(),
                RosterEntries::RegionCode.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(big_pk_auto(Cases::Id))
                .col(big_integer(Cases::PersonId))
                .col(integer(Cases::Year))
                .col(string_len(Cases::State, 16))
                .col(integer(Cases::Version).default(1))
                .col(string(Cases::ApplicantName))
                .col(string_len(Cases::DiagnosisCode, 16))
                .col(string(Cases::DiagnosisText))
                .col(big_integer_null(Cases::HospitalId))
                .col(string(Cases::Phone))
                .col(text(Cases::Address))
                .col(text(Cases::Note))
                .col(string_len(Cases::RegionCode, 6))
                .col(json(Cases::Evidence))
                .col(big_integer(Cases::OpenedBy))
                .col(big_integer_null(Cases::DecidedBy))
                .col(now_utc(Cases::CreatedAt))
                .col(now_utc(Cases::UpdatedAt))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::HospitalId,
                    Hospitals::Table,
                    Hospitals::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::OpenedBy,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::DecidedBy,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_cases_person_year",
            Cases::Table,
            vec![Cases::PersonId.into_iden(), Cases::Year.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "idx_cases_region_state",
            Cases::Table,
            vec![Cases::RegionCode.into_iden(), Cases::State.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CaseEvents::Table)
                .col(big_pk_auto(CaseEvents::Id))
                .col(big_integer(CaseEvents::CaseId))
                .col(big_integer(CaseEvents::ActorId))
                .col(string_len(CaseEvents::Action, 16))
                .col(string_len_null(CaseEvents::FromState, 16))
                .col(string_len(CaseEvents::ToState, 16))
                .col(text_null(CaseEvents::Reason))
                .col(now_utc(CaseEvents::At))
                .foreign_key(&mut fk(
                    CaseEvents::Table,
                    CaseEvents::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    CaseEvents::Table,
                    CaseEvents::ActorId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_case_events_case",
            CaseEvents::Table,
            vec![CaseEvents::CaseId.into_iden(), CaseEvents::Id.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(SubsidyPolicies::Table)
                .col(big_pk_auto(SubsidyPolicies::Id))
                .col(string_len(SubsidyPolicies::GroupCode, 24))
                // An exact decimal string such as "0.60": the ratio is not money, and a text
                // keeps it exact on both backends.
                .col(string_len(SubsidyPolicies::Rate, 16))
                .col(big_integer(SubsidyPolicies::DeductibleFen))
                .col(big_integer(SubsidyPolicies::PerVisitCapFen))
                .col(big_integer(SubsidyPolicies::AnnualCapFen))
                .col(date(SubsidyPolicies::EffectiveFrom))
                .col(date_null(SubsidyPolicies::EffectiveTo))
                .col(big_integer_null(SubsidyPolicies::CreatedBy))
                .col(now_utc(SubsidyPolicies::CreatedAt))
                .foreign_key(&mut fk(
                    SubsidyPolicies::Table,
                    SubsidyPolicies::CreatedBy,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_subsidy_policies_group_from",
            SubsidyPolicies::Table,
            vec![
                SubsidyPolicies::GroupCode.into_iden(),
                SubsidyPolicies::EffectiveFrom.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Visits::Table)
                .col(big_pk_auto(Visits::Id))
                .col(big_integer(Visits::CaseId))
                .col(big_integer(Visits::PersonId))
                .col(big_integer(Visits::HospitalId))
                .col(big_integer_null(Visits::PolicyId))
                .col(string_len(Visits::GroupCode, 24))
                .col(string_len(Visits::RegionCode, 6))
                .col(string_len(Visits::Kind, 16))
                .col(date_null(Visits::AdmittedOn))
                .col(date_null(Visits::DischargedOn))
                .col(date_null(Visits::VisitDate))
                // The date a visit counts on (discharge or visit date), for caps and reports.
                .col(date(Visits::CountedOn))
                .col(integer(Visits::Year))
                .col(string_null(Visits::InvoiceNo))
                .col(big_integer(Visits::TotalCostFen))
                .col(big_integer(Visits::InsurancePaidFen))
                .col(big_integer(Visits::CriticalIllnessPaidFen))
                .col(big_integer(Visits::MedicalAssistancePaidFen))
                .col(big_integer(Visits::OutOfPocketFen))
                .col(big_integer(Visits::SubsidyFen))
                .col(string_len_null(Visits::CapReason, 32))
                .col(string_len(Visits::Status, 16))
                .col(big_integer_null(Visits::ReversesVisitId))
                .col(big_integer(Visits::RecordedBy))
                .col(big_integer_null(Visits::ApprovedBy))
                .col(timestamp_with_time_zone_null(Visits::ApprovedAt))
                .col(big_integer_null(Visits::PaidBy))
                .col(timestamp_with_time_zone_null(Visits::PaidAt))
                .col(string_null(Visits::PaymentRef))
                .col(date_null(Visits::PaidOn))
                .col(big_integer_null(Visits::VoidedBy))
                .col(timestamp_with_time_zone_null(Visits::VoidedAt))
                .col(text_null(Visits::VoidReason))
                .col(text_null(Visits::ReversalReason))
                .col(now_utc(Visits::CreatedAt))
                .col(now_utc(Visits::UpdatedAt))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::HospitalId,
                    Hospitals::Table,
                    Hospitals::Id,
                ))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::PolicyId,
                    SubsidyPolicies::Table,
                    SubsidyPolicies::Id,
                ))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::ReversesVisitId,
                    Visits::Table,
                    Visits::Id,
                ))
                .foreign_key(&mut fk(
                    Visits::Table,
                    Visits::RecordedBy,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_visits_person_counted",
            Visits::Table,
            vec![Visits::PersonId.into_iden(), Visits::CountedOn.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "idx_visits_case",
            Visits::Table,
            vec![Visits::CaseId.into_iden()],
        ))
        .await?;
        // The same invoice at the same hospital is one visit. Reversal entries carry no
        // invoice number, and NULLs never collide.
        m.create_index(
            index(
                "uq_visits_hospital_invoice",
                Visits::Table,
                vec![
                    Visits::HospitalId.into_iden(),
                    Visits::InvoiceNo.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // A paid subsidy is reversed once: a second reversal entry would free the cap twice.
        m.create_index(
            index(
                "uq_visits_reverses",
                Visits::Table,
                vec![Visits::ReversesVisitId.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // A new policy may end an open one only if no visit after its start used that one.
        m.create_index(index(
            "idx_visits_policy_counted",
            Visits::Table,
            vec![Visits::PolicyId.into_iden(), Visits::CountedOn.into_iden()],
        ))
        .await?;
        // Spending totals: filter by date and status, group by integer keys, without the table.
        m.create_index(index(
            "idx_visits_report",
            Visits::Table,
            vec![
                Visits::CountedOn.into_iden(),
                Visits::Status.into_iden(),
                Visits::GroupCode.into_iden(),
                Visits::RegionCode.into_iden(),
                Visits::HospitalId.into_iden(),
                Visits::PersonId.into_iden(),
                Visits::SubsidyFen.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(AnnualGrants::Table)
                .col(big_integer(AnnualGrants::PersonId))
                .col(integer(AnnualGrants::Year))
                .col(big_integer(AnnualGrants::GrantedFen).default(0))
                .col(now_utc(AnnualGrants::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(AnnualGrants::PersonId)
                        .col(AnnualGrants::Year),
                )
                .foreign_key(&mut fk(
                    AnnualGrants::Table,
                    AnnualGrants::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(now_utc(AuditLog::At))
                .col(big_integer_null(AuditLog::ActorId))
                .col(string(AuditLog::ActorName))
                .col(string_len(AuditLog::Action, 48))
                .col(string_len(AuditLog::EntityType, 32))
                .col(string(AuditLog::EntityId))
                .col(json_null(AuditLog::Before))
                .col(json_null(AuditLog::After))
                .foreign_key(&mut fk(
                    AuditLog::Table,
                    AuditLog::ActorId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_audit_log_entity",
            AuditLog::Table,
            vec![
                AuditLog::EntityType.into_iden(),
                AuditLog::EntityId.into_iden(),
            ],
        ))
        .await?;
        m.create_index(index(
            "idx_audit_log_actor",
            AuditLog::Table,
            vec![AuditLog::ActorId.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "idx_audit_log_at",
            AuditLog::Table,
            vec![AuditLog::At.into_iden()],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables: [DynIden; 15] = [
            AuditLog::Table.into_iden(),
            AnnualGrants::Table.into_iden(),
            Visits::Table.into_iden(),
            SubsidyPolicies::Table.into_iden(),
            CaseEvents::Table.into_iden(),
            Cases::Table.into_iden(),
            RosterEntries::Table.into_iden(),
            RosterImportErrors::Table.into_iden(),
            RosterImportFiles::Table.into_iden(),
            RosterImports::Table.into_iden(),
            Hospitals::Table.into_iden(),
            Persons::Table.into_iden(),
            Regions::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ];
        for table in tables {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
