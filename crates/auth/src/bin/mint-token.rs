//! Mints a local development token: `mint-token USER [LIFETIME_SECS]`, secret in `JWT_SECRET`.

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(user) = args.next() else {
        eprintln!("usage: JWT_SECRET=... mint-token USER [LIFETIME_SECS]");
        std::process::exit(2);
    };
    let lifetime = args.next().and_then(|s| s.parse().ok()).unwrap_or(3600);
    let secret = std::env::var("JWT_SECRET").unwrap_or_default();
    if secret.is_empty() {
        eprintln!("JWT_SECRET is not set");
        std::process::exit(2);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    println!("{}", auth::mint(&user, secret.as_bytes(), now, lifetime));
}
