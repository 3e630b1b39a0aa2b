//! Paging of lists: the page and its size from a query, their bounds, and a page of results.

use crate::error::{AppError, FieldError, Msg};

/// A page of results.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PageOf<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows across all pages.
    pub total: u64,
}

/// The highest page a list serves. Its offset is then at most 99,999 × 500, about fifty
/// million rows: far inside an i64 and every database's OFFSET, where an unbounded page
/// overflowed and answered 500. Nobody pages that deep by hand; a database would read and
/// throw away that many rows to answer it. Filters narrow a list, and the downloads hold whole
/// lists.
pub const MAX_PAGE: u64 = 100_000;

/// The most rows a page holds.
pub const MAX_PER_PAGE: u64 = 500;

/// Rows a page holds when the request does not say.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// Page and size from a query string: page 1 and 50 rows by default; page 1 to [`MAX_PAGE`]
/// and 1 to [`MAX_PER_PAGE`] rows, anything else a 422 that names the field and its range.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64), AppError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    let mut bad = Vec::new();
    if !(1..=MAX_PAGE).contains(&page) {
        bad.push("page");
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        bad.push("per_page");
    }
    if bad.is_empty() {
        Ok((page, per_page))
    } else {
        Err(paging_error(&bad))
    }
}

/// The 422 of a bad `page` or `per_page` (out of range, or not a whole number at all: the
/// query extractor sends those here too), with the allowed range of each field.
pub fn paging_error(fields: &[&str]) -> AppError {
    let details: Vec<FieldError> = fields
        .iter()
        .map(|f| {
            let message = if *f == "per_page" {
                Msg::new(
                    format!("每页条数（per_page）须为1到{MAX_PER_PAGE}之间的整数。"),
                    format!("per_page must be a whole number from 1 to {MAX_PER_PAGE}."),
                )
            } else {
                Msg::new(
                    format!("页码（page）须为1到{MAX_PAGE}之间的整数。"),
                    format!("page must be a whole number from 1 to {MAX_PAGE}."),
                )
            };
            FieldError::new(*f, message)
        })
        .collect();
    let message = Msg::new(
        details
            .iter()
            .map(|d| d.message.zh.as_str())
            .collect::<String>(),
        details
            .iter()
            .map(|d| d.message.en.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    AppError::Unprocessable {
        code: "validation_failed",
        message,
        details,
    }
}
