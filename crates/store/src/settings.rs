//! The Task API's statements for the user's settings and push credentials.

use serde::Deserialize;
use serde_json::Value;

use domain::settings::UserSettings;

use crate::fragments::{offsets_json, rate_limit, record_claim_email_when, Admission};
use crate::statement::{ts_ms, Binder, Query};

/// The API representation of a `user_settings` row `a`: offsets longest first, the address the
/// user set (`email`) and the one reminders go to (`reminder_email`: the set one, else the
/// token's `email` claim last seen, else null).
fn settings_json(a: &str) -> String {
    format!(
        "jsonb_build_object('default_reminders', coalesce((select jsonb_agg(x->>'off' order by (x->>'secs')::integer desc) \
         from jsonb_array_elements({a}.default_reminders) x), '[]'::jsonb), 'email', {a}.email, \
         'reminder_email', coalesce({a}.email, {a}.token_email), 'updated_at', {updated})",
        updated = ts_ms(&format!("{a}.updated_at"))
    )
}

/// The user's settings as the API answers them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsRow {
    /// The settings JSON.
    pub settings: Value,
}

/// The user's settings (the defaults when the user never set any).
#[must_use]
pub fn get_settings(user: &str) -> Query<SettingsRow> {
    let mut b = Binder::default();
    let sql = format!(
        "select coalesce((select {} from user_settings s where s.user_id = {}), \
         jsonb_build_object('default_reminders', '[]'::jsonb, 'email', null, 'reminder_email', null, 'updated_at', null)) as settings",
        settings_json("s"),
        b.bind(user)
    );
    b.finish_query(sql)
}

/// The row of [`put_settings`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsWritten {
    /// The saved settings; null when the write limit refused the write.
    pub settings: Option<Value>,
    /// Seconds until the user's write window ends, when refused.
    pub retry_after: Option<i64>,
    /// The service was overloaded when the statement ran: nothing was written.
    pub shed: bool,
}

/// Replaces the user's settings unless the user's write limit is reached (then the settings
/// are null). `claim_email` (the caller's validated token
/// `email` claim) is recorded as `token_email` when given.
#[must_use]
pub fn put_settings(
    user: &str,
    s: &crate::settings::UserSettings,
    admission: &Admission,
    claim_email: Option<&str>,
) -> Query<SettingsWritten> {
    let mut b = Binder::default();
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, admission);
    let rem = b.bind(offsets_json(&s.default_reminders));
    let email = b.bind(s.email.as_ref().map(domain::EmailAddress::as_str));
    let claim = b.bind(claim_email);
    let sql = format!(
        "with {ctes}up as (insert into user_settings (user_id, default_reminders, email, token_email, updated_at) \
         select {u}, {rem}::jsonb, {email}::text, {claim}::text, now() where {gate} \
         on conflict (user_id) do update set default_reminders = excluded.default_reminders, email = excluded.email, \
         token_email = coalesce(excluded.token_email, user_settings.token_email), updated_at = now() \
         returning default_reminders, email, token_email, updated_at) \
         select (select {json} from up) as settings, {column} as retry_after, {shed} as shed",
        ctes = rl.ctes,
        gate = rl.gate,
        json = settings_json("up"),
        column = rl.column,
        shed = rl.shed,
    );
    b.finish_query(sql)
}

/// The row of [`issue_push_password`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushPassword {
    /// The password; null when the write limit refused it.
    pub password: Option<String>,
    /// Seconds until the user's write window ends, when refused.
    pub retry_after: Option<i64>,
    /// The service was overloaded when the statement ran: nothing was written.
    pub shed: bool,
}

/// A fresh push password (64 hex digits from two `gen_random_uuid()`, `PostgreSQL`'s strong
/// random source) unless the user's write limit is reached (then it is null). Nothing is stored: the broker keeps the password.
/// `claim_email` is recorded like [`crate::tasks::create_task`]'s (a device signing in for reminders).
#[must_use]
pub fn issue_push_password(
    user: &str,
    admission: &Admission,
    claim_email: Option<&str>,
) -> Query<PushPassword> {
    let mut b = Binder::default();
    // The user keys the rate limit and the claim (neither: nothing to bind).
    let u = if admission.per_user_per_minute == 0 && claim_email.is_none() {
        String::new()
    } else {
        b.bind(user)
    };
    let rl = rate_limit(&mut b, &u, admission);
    let claim = record_claim_email_when(&mut b, &u, claim_email, &rl.gate);
    let sql = format!(
        "with {ctes}{claim}pw as (select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') as p where {gate}) \
         select (select p from pw) as password, {column} as retry_after, {shed} as shed",
        ctes = rl.ctes,
        gate = rl.gate,
        column = rl.column,
        shed = rl.shed,
    );
    b.finish_query(sql)
}
