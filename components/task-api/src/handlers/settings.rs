//! `/api/users/me/...`: the user's settings and push credentials.

use chrono::Utc;
use component_kit::dapr::Dapr;
use component_kit::db;
use component_kit::json;
use domain::channel;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};

use super::Answer;
use crate::error::ApiError;
use crate::request::{admission, authenticate, authenticate_caller, check_rate, json_body};

/// `GET /api/users/me/settings`: the caller's settings (default reminders, reminder email).
pub async fn get_settings(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let rows = db::query(&dapr, &store::settings::get_settings(&user)).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    Ok(json::response(200, &row.settings))
}

/// `PUT /api/users/me/settings`: replaces the caller's settings (and records the token's
/// `email` claim); counts as a write.
pub async fn put_settings(req: Request, _p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let settings = domain::parse_settings(&json_body(&req)?)?;
    let stmt = store::settings::put_settings(
        &caller.user,
        &settings,
        &admission(received)?,
        caller.email.as_ref().map(|e| e.as_str()),
    );
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.shed, row.retry_after)?;
    let saved = row.settings.as_ref().ok_or(ApiError::NotFound)?;
    Ok(json::response(200, saved))
}

/// The Dapr output binding that publishes Mosquitto dynamic-security commands
/// (`runtime-config/local/push-issuer.yaml`).
const PUSH_ISSUER: &str = "push-issuer";

/// `POST /api/users/me/push-credentials`: issues the caller's push credentials: a broker
/// client (username = the user's push identity) with a fresh random password and a role that
/// may subscribe to the user's own topic only; a new issue replaces the previous password.
/// Answered once (`cache-control: no-store`), never stored by the API; counts as a write.
pub async fn issue_push_credentials(req: Request, _p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let rows = db::query(
        &dapr,
        &store::settings::issue_push_password(
            &user,
            &admission(received)?,
            caller.email.as_ref().map(|e| e.as_str()),
        ),
    )
    .await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.shed, row.retry_after)?;
    let password = row.password.as_deref().ok_or(ApiError::NotFound)?;
    let request = json!({
        "operation": "create",
        "data": channel::issue_commands(&user, password),
        "metadata": {"topic": channel::DYNSEC_CONTROL_TOPIC},
    });
    dapr.invoke_binding(PUSH_ISSUER, &request).await?;
    let body = json!({
        "username": channel::push_identity(&user),
        "password": password,
        "topic": channel::push_topic(&user),
    });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(body.to_string())
        .build())
}
