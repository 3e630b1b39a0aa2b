//! A person named in a request: by their record id, which keeps the ID number out of
//! addresses (and so out of proxies' and servers' logs), or by the ID number itself.

use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};

use entity::person;

use crate::domain::IdNumber;
use crate::error::{AppError, AppResult};

/// How a request names a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    /// The person's record id, as eligibility answers, cases and visits give it.
    Id(i64),
    /// The ID number (15 or 18 characters).
    IdNumber(IdNumber),
}

impl PersonKey {
    /// Reads a path segment: all digits and shorter than an ID number is a record id (record
    /// ids stay far below 15 digits); anything else must be an ID number.
    pub fn parse(raw: &str) -> AppResult<PersonKey> {
        let raw = raw.trim();
        if !raw.is_empty() && raw.len() < 15 && raw.bytes().all(|b| b.is_ascii_digit()) {
            return raw
                .parse()
                .map(PersonKey::Id)
                .map_err(|_| AppError::not_found("person", raw));
        }
        IdNumber::parse(raw)
            .map(PersonKey::IdNumber)
            .map_err(|e| AppError::field("id_number", &e))
    }

    /// How the person is named in a "not found" answer: never the whole ID number.
    pub fn shown(&self) -> String {
        match self {
            PersonKey::Id(id) => id.to_string(),
            PersonKey::IdNumber(n) => n.masked(),
        }
    }

    /// The person, if there is one.
    pub async fn find<C: ConnectionTrait>(&self, conn: &C) -> AppResult<Option<person::Model>> {
        let q = person::Entity::find();
        let q = match self {
            PersonKey::Id(id) => q.filter(person::COLUMN.id.eq(*id)),
            PersonKey::IdNumber(n) => q.filter(person::COLUMN.id_number.eq(n.as_str())),
        };
        Ok(q.one(conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_a_record_id_and_id_numbers_are_id_numbers() {
        assert_eq!(PersonKey::parse("42").unwrap(), PersonKey::Id(42));
        let n = "11010519491231002X";
        assert_eq!(
            PersonKey::parse(n).unwrap(),
            PersonKey::IdNumber(IdNumber::parse(n).unwrap())
        );
        // A 15-digit number is an old ID number, never a record id.
        assert!(matches!(
            PersonKey::parse("110105491231002"),
            Ok(PersonKey::IdNumber(_))
        ));
        assert!(PersonKey::parse("12345678901234567").is_err());
        assert!(PersonKey::parse("").is_err());
    }
}
