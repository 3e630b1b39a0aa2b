//! How a case's subsidies are paid (收款信息): to the patient or a named proxy, into a bank
//! account, a bank card or the 社会保障卡's financial account.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_payees")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    /// The account holder's name as the bank has it.
    pub payee_name: String,
    /// Who the holder is to the patient.
    pub relation: Holder,
    pub account_kind: AccountKind,
    pub bank_name: String,
    /// Digits only; shown masked except to finance.
    pub account_no: String,
    /// Optimistic-concurrency version: a change names the version it read.
    pub version: i32,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Who receives the money.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
#[schema(as = PayeeHolder)]
pub enum Holder {
    /// 本人: the patient.
    Patient,
    /// 配偶: the spouse.
    Spouse,
    /// 子女 or 父母: a child or parent.
    Family,
    /// 监护人 or another person named in writing.
    Proxy,
}

/// What the account number is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// 银行卡: a card number of 16 to 19 digits with a Luhn check digit.
    BankCard,
    /// 银行账号 (存折, 一本通): an account number of 8 to 30 digits, no check digit.
    BankAccount,
    /// 社会保障卡金融账户: the card's bank number, 16 to 19 digits with a Luhn check digit.
    SocialSecurityCard,
}

crate::codes! {
    Holder {
        Patient => "patient",
        Spouse => "spouse",
        Family => "family",
        Proxy => "proxy",
    }
    AccountKind {
        BankCard => "bank_card",
        BankAccount => "bank_account",
        SocialSecurityCard => "social_security_card",
    }
}
