//! SeaORM entities: one module per table, mirroring the migrations. No business rules live here;
//! the meaning of these rows (states, groups, money) is in the app's `domain` module.

/// A state or kind stored as a code: what generic code (lists of choices, messages) needs.
pub trait Coded: Copy + 'static {
    /// Every value, in the order of its life.
    fn all() -> &'static [Self];
    /// The stored and API code.
    fn code(self) -> &'static str;
}

/// The codes of the state enums of one table, as stored and as clients see them, with each
/// enum's list and its reading back. The codes here and the `rename_all` of the derives must
/// agree: the test the macro brings checks it for every variant.
#[macro_export]
macro_rules! codes {
    ($($ty:ident { $($variant:ident => $code:literal),+ $(,)? })+) => {
        $(
            impl $ty {
                /// Every value, in the order of its life.
                pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

                /// The stored and API code.
                pub const fn code(self) -> &'static str {
                    match self {
                        $($ty::$variant => $code),+
                    }
                }

                /// A code read back; None for one this version does not know.
                pub fn parse(code: &str) -> Option<$ty> {
                    let code = code.trim();
                    $ty::ALL.iter().copied().find(|v| v.code() == code)
                }
            }

            impl $crate::Coded for $ty {
                fn all() -> &'static [$ty] {
                    $ty::ALL
                }

                fn code(self) -> &'static str {
                    $ty::code(self)
                }
            }

            impl std::fmt::Display for $ty {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.code())
                }
            }
        )+

        #[cfg(test)]
        mod codes_agree {
            use sea_orm::{ActiveEnum, Iterable};

            #[test]
            fn stored_serialised_and_listed_codes_agree() {
                $(
                    let listed: Vec<super::$ty> = super::$ty::iter().collect();
                    assert_eq!(listed, super::$ty::ALL);
                    for v in super::$ty::iter() {
                        assert_eq!(v.to_value(), v.code());
                        assert_eq!(serde_json::to_value(v).unwrap(), v.code());
                        assert_eq!(super::$ty::parse(v.code()), Some(v));
                    }
                    assert_eq!(super::$ty::parse("no such code"), None);
                )+
            }
        }
    };
}

pub mod access_log;
pub mod annual_grant;
pub mod audit_log;
pub mod budget_line;
pub mod case;
pub mod case_event;
pub mod case_payee;
pub mod hospital;
pub mod login_throttle;
pub mod payment_batch;
pub mod payment_line;
pub mod payment_objection;
pub mod payment_return;
pub mod payment_return_row;
pub mod person;
pub mod recovery_code;
pub mod region;
pub mod roster_entry;
pub mod roster_entry_change;
pub mod roster_import;
pub mod roster_import_end;
pub mod roster_import_error;
pub mod roster_import_file_part;
pub mod roster_import_row;
pub mod session;
pub mod subsidy_policy;
pub mod user;
pub mod visit;
