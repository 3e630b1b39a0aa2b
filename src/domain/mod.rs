//! Pure domain types and rules: no HTTP, no database, no clock (dates are passed in).

pub mod account;
pub mod allowance;
pub mod budget;
pub mod diagnosis;
pub mod group;
pub mod id_number;
pub mod lang;
pub mod money;
pub mod rate;
pub mod region;
pub mod role;
pub mod subsidy;
pub mod work_days;

pub use account::{AccountError, AccountNumber, mask_account};
pub use allowance::{Allowance, PolicyCap};
pub use budget::{BudgetUse, Level as BudgetLevel};
pub use diagnosis::{Diagnosis, DiagnosisError, DiagnosisRanges};
pub use group::Group;
pub use id_number::{IdNumber, IdNumberError, Sex};
pub use lang::{Label, Lang, Localized, choices};
pub use money::{Amount, Money, MoneyError};
pub use rate::{Rate, RateError};
pub use region::{RegionCode, RegionError, RegionPrefix};
pub use role::{Role, RoleError};
pub use work_days::WorkCalendar;
