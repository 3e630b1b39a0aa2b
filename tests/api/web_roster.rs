//! The roster pages through the router, on both databases.
