//! Shared adapter code for the platform's Wasm components (spin-sdk, WASI 0.2).

pub mod config;
pub mod dapr;
pub mod health;
pub mod problem;
