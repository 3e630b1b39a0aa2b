//! Where a subsidy is paid: the account number as the bank needs it, checked before it is
//! kept, and masked wherever finance does not need it.

use entity::case_payee::{AccountKind, Holder};

use super::{Label, Lang, Localized};

/// An account number that passed its kind's checks: digits only, a length the kind allows,
/// and the Luhn check digit where cards carry one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

/// Why an account number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Nothing was given.
    #[error("the account number is empty")]
    Empty,
    /// Something other than digits (spaces and hyphens are dropped first).
    #[error("the account number may hold digits only")]
    NotDigits,
    /// Too short or too long for the kind.
    #[error("an account number of this kind has {min} to {max} digits, not {len}")]
    Length {
        /// Digits given.
        len: usize,
        /// Fewest allowed.
        min: usize,
        /// Most allowed.
        max: usize,
    },
    /// The last digit does not check (Luhn): a digit was mistyped or two were swapped.
    #[error("the card number's check digit is wrong: a digit is mistyped")]
    CheckDigit,
}

impl Localized for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::Empty => "account_required",
            AccountError::NotDigits => "account_not_digits",
            AccountError::Length { .. } => "account_length",
            AccountError::CheckDigit => "account_check_digit",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (AccountError::Empty, Lang::Zh) => "请填写收款账号。".to_owned(),
            (AccountError::NotDigits, Lang::Zh) => {
                "收款账号只能包含数字（空格和短横线会被忽略）。".to_owned()
            }
            (AccountError::Length { len, min, max }, Lang::Zh) => {
                format!("这类账号应为 {min} 至 {max} 位数字，填写的是 {len} 位：请核对。")
            }
            (AccountError::CheckDigit, Lang::Zh) => {
                "卡号校验位不符：可能有一位数字填错或两位颠倒，请对照银行卡核对。".to_owned()
            }
        }
    }
}

/// The lengths a kind allows and whether its last digit is a Luhn check digit.
fn rule(kind: AccountKind) -> (usize, usize, bool) {
    match kind {
        AccountKind::BankCard | AccountKind::SocialSecurityCard => (16, 19, true),
        AccountKind::BankAccount => (8, 30, false),
    }
}

impl AccountNumber {
    /// Reads an account number of `kind`, dropping the spaces and hyphens people type.
    pub fn parse(kind: AccountKind, raw: &str) -> Result<AccountNumber, AccountError> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.is_empty() {
            return Err(AccountError::Empty);
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(AccountError::NotDigits);
        }
        let (min, max, luhn) = rule(kind);
        let len = digits.len();
        if !(min..=max).contains(&len) {
            return Err(AccountError::Length { len, min, max });
        }
        if luhn && !luhn_ok(&digits) {
            return Err(AccountError::CheckDigit);
        }
        Ok(AccountNumber(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As anyone but finance sees it: the first four and the last four digits.
    pub fn masked(&self) -> String {
        mask_account(&self.0)
    }
}

/// An account number as anyone but finance sees it: `6222********1234`.
pub fn mask_account(digits: &str) -> String {
    let n = digits.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// The Luhn check: from the right, every second digit doubled (less 9 above 9), the sum a
/// multiple of ten.
fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl Label for AccountKind {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            AccountKind::BankCard => lang.pick("银行卡", "Bank card"),
            AccountKind::BankAccount => lang.pick("银行账号（存折）", "Bank account"),
            AccountKind::SocialSecurityCard => {
                lang.pick("社会保障卡金融账户", "Social security card")
            }
        }
    }
}

impl Label for Holder {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Holder::Patient => lang.pick("本人", "The patient"),
            Holder::Spouse => lang.pick("配偶", "Spouse"),
            Holder::Family => lang.pick("子女或父母", "Child or parent"),
            Holder::Proxy => lang.pick("监护人或委托代领人", "Guardian or named proxy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_need_their_check_digit() {
        // A test card number with a valid Luhn digit, typed with spaces.
        let ok = AccountNumber::parse(AccountKind::BankCard, "6222 0202 0000 0000 006").unwrap();
        assert_eq!(ok.as_str(), "6222020200000000006");
        assert_eq!(ok.masked(), "6222***********0006");
        assert_eq!(
            AccountNumber::parse(AccountKind::BankCard, "6222020200000000007"),
            Err(AccountError::CheckDigit)
        );
        // Two neighbouring digits swapped are caught too.
        assert_eq!(
            AccountNumber::parse(AccountKind::BankCard, "6222020200000000060"),
            Err(AccountError::CheckDigit)
        );
    }

    #[test]
    fn lengths_and_characters_are_checked() {
        assert_eq!(
            AccountNumber::parse(AccountKind::BankCard, "4111"),
            Err(AccountError::Length {
                len: 4,
                min: 16,
                max: 19
            })
        );
        assert_eq!(
            AccountNumber::parse(AccountKind::BankAccount, "0710-01O1"),
            Err(AccountError::NotDigits)
        );
        assert_eq!(
            AccountNumber::parse(AccountKind::BankAccount, "  "),
            Err(AccountError::Empty)
        );
        // A passbook account has no check digit.
        assert!(AccountNumber::parse(AccountKind::BankAccount, "0710 0101 2345").is_ok());
    }

    #[test]
    fn masking_keeps_four_and_four() {
        assert_eq!(mask_account("071001012345"), "0710****2345");
        assert_eq!(mask_account("12345678"), "********");
    }
}
