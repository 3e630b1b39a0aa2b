//! The reports pages through the router, on both databases.
