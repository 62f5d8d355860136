//! Mints a local development token: `mint-token USER [LIFETIME_SECS]`, secret in `JWT_SECRET`
//! (at least 32 bytes), issuer and audience in `JWT_ISSUER` / `JWT_AUDIENCE` (defaults
//! `todo-platform` / `todo-api`).

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(user) = args.next() else {
        eprintln!("usage: JWT_SECRET=... mint-token USER [LIFETIME_SECS]");
        std::process::exit(2);
    };
    let lifetime = args.next().and_then(|s| s.parse().ok()).unwrap_or(3600);
    let secret = std::env::var("JWT_SECRET").unwrap_or_default();
    if let Err(e) = auth::check_secret(secret.as_bytes()) {
        eprintln!("JWT_SECRET: {e}");
        std::process::exit(2);
    }
    let env = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    let to = auth::Expected {
        issuer: env("JWT_ISSUER", auth::DEFAULT_ISSUER),
        audience: env("JWT_AUDIENCE", auth::DEFAULT_AUDIENCE),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    println!(
        "{}",
        auth::mint_for(&user, &to, secret.as_bytes(), now, lifetime)
    );
}
