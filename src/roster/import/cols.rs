//! Columns of the statements the writer sends.

use crate::roster::bulk::{Col, col};

pub const ERROR: &[Col] = &[
    col("import_id", "bigint"),
    col("sheet", "text"),
    col("row_number", "bigint"),
    col("column_name", "text"),
    col("value", "text"),
    col("code", "text"),
    col("message_zh", "text"),
    col("message_en", "text"),
    col("row_data", "json"),
];
pub const STAGE: &[Col] = &[
    col("import_id", "bigint"),
    col("seq", "bigint"),
    col("sheet", "text"),
    col("row_number", "bigint"),
    col("id_number", "text"),
    col("name", "text"),
    col("sex", "text"),
    col("birth_date", "date"),
    col("region_code", "text"),
    col("group_code", "text"),
    col("valid_from", "date"),
    col("valid_to", "date"),
    col("extra", "json"),
    col("person_id", "bigint"),
    col("new_person", "bigint"),
    col("person_row", "bool"),
    col("entry_id", "bigint"),
    col("action", "text"),
    col("person_changed", "bool"),
    col("before_valid_from", "date"),
    col("before_valid_to", "date"),
    col("before_region_code", "text"),
    col("before_name", "text"),
];
pub const END: &[Col] = &[
    col("import_id", "bigint"),
    col("entry_id", "bigint"),
    col("person_id", "bigint"),
];
