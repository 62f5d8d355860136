//! Shared adapter code for the platform's Wasm components (spin-sdk, WASI 0.2).

pub mod admission;
pub mod app_token;
pub mod bearer;
pub mod config;
pub mod dapr;
pub mod db;
pub mod delivery;
pub mod health;
pub mod invoke;
pub mod json;
pub mod log;
pub mod mount;
pub mod outbox;
pub mod problem;
pub mod query;
pub mod trace;
