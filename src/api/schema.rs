//! How the domain's value types appear in the API description. The types themselves know
//! nothing of HTTP; their wire forms (money and rates as strings, groups and diagnoses as
//! codes) are set by their `Serialize` impls, and these schemas say the same. The answers the
//! tests receive are validated against them (`tests/api/conformance.rs`).

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{Amount, Diagnosis, Group, Money, Rate};

/// A string schema named after the type, with its description, pattern and example.
macro_rules! string_schema {
    ($ty:ty, $name:literal, $description:literal, $pattern:literal, $example:literal) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .examples([$example])
                    .into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    Money,
    "Money",
    "An amount in yuan, exact to the fen, as a string (never a float).",
    r"^-?[0-9]+\.[0-9]{2}$",
    "1234.50"
);
string_schema!(
    Amount,
    "Amount",
    "An amount in yuan that cannot be negative, exact to the fen, as a string.",
    r"^[0-9]+\.[0-9]{2}$",
    "1234.50"
);
string_schema!(
    Rate,
    "Rate",
    "A share between 0 and 1 as a decimal string.",
    r"^(0(\.[0-9]+)?|1(\.0+)?)$",
    "0.60"
);
string_schema!(
    Diagnosis,
    "Diagnosis",
    "An ICD-10 code, normalised (upper case, with its dot).",
    r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$",
    "C34.1"
);

impl PartialSchema for Group {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "An assistance group: 城市低保, 农村低保, 特困供养人员, 优抚对象.",
            ))
            .enum_values(Some(Group::ALL.iter().map(|g| g.code())))
            .into()
    }
}

impl ToSchema for Group {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Group")
    }
}
