//! What the API (`api`) and the pages (`web`) share, below both: who is asking (the session
//! cookie or token, the current user, the client's address), the request's language, time
//! limit and log span, paging, and the forms and queries both read (a roster upload, a
//! spending report). The router that joins the two is built in `startup`.

pub mod extract;
pub mod layers;
pub mod paging;
pub mod report_query;
pub mod upload_form;

pub use paging::{DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, PageOf, paging, paging_error};
