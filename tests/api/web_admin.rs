//! The admin pages through the router, on both databases.
