//! The server side of the console: configuration, the SQLite workspace, the link to the chain, sign-in and the
//! HTTP security around the rendered pages.

pub mod audit;
pub mod config;
pub mod db;
