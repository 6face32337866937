//! The console's pages.

pub mod accounts;
pub mod audit;
pub mod bundle;
pub mod draft;
pub mod events;
pub mod forms;
pub mod keys;
pub mod login;
pub mod members;
pub mod nodes;
pub mod overview;
pub mod proposal;
pub mod proposals;
pub mod review;
pub mod time;
pub mod webhooks;
