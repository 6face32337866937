//! The server side of the console: configuration, the SQLite workspace, the link to the chain, sign-in, the pages'
//! data and the HTTP security around them.

pub mod actions;
pub mod anchor;
pub mod audit;
pub mod audit_view;
pub mod auth;
pub mod bundle;
pub mod config;
pub mod db;
pub mod drafts;
pub mod export_check;
pub mod exports;
pub mod follower;
pub mod indexer;
pub mod live;
pub mod net;
pub mod node;
pub mod proposals;
pub mod router;
pub mod security;
pub mod state;
pub mod views;
pub mod webhooks;
