//! Settings → Language and time zone: the interface language (or the browser's) and the
//! zone dates are shown in (or the browser's, which `static/app.js` reports).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::Posted;
use super::session::SignedIn;
use super::shell::{Nav, Shell};
use super::{AppState, WebError};
use crate::i18n::{Lang, Locale, Zone};
use crate::store;

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    locale: Locale,
    shell: Shell,
    /// The stored choice; empty for "as the browser says".
    language: String,
    time_zone: String,
    languages: Vec<(String, String)>,
    zones: Vec<String>,
    browser_zone: String,
    /// The time now, in the zone shown, so the person can check it.
    now: String,
    saved: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    saved: bool,
    error: Option<String>,
) -> Result<Response, WebError> {
    let locale = signed_in.locale.clone();
    let browser_zone = super::locale::browser_zone(headers)
        .map_or_else(|| "UTC".to_owned(), |zone| zone.name().to_owned());
    let page = SettingsPage {
        shell: Shell::load(state, signed_in, Nav::Settings, "").await?,
        language: signed_in.language_setting.clone().unwrap_or_default(),
        time_zone: signed_in.time_zone_setting.clone().unwrap_or_default(),
        languages: Lang::ALL
            .map(|lang| (lang.code().to_owned(), lang.name().to_owned()))
            .to_vec(),
        zones: Zone::all_names(),
        browser_zone,
        now: locale.full_date(OffsetDateTime::now_utc()),
        saved,
        locale,
        error: error.clone(),
    };
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((code, page).into_response())
}

/// `GET /settings`.
pub async fn settings_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<SavedQuery>,
) -> Result<Response, WebError> {
    page(&state, &signed_in, &headers, query.saved.is_some(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    language: String,
    time_zone: String,
}

/// `POST /settings`: empty values follow the browser.
pub async fn settings_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted(signed_in, form): Posted<SettingsForm>,
) -> Result<Response, WebError> {
    let language = match form.language.trim() {
        "" => None,
        code => Lang::parse(code).map(Lang::code),
    };
    let time_zone = match form.time_zone.trim() {
        "" => None,
        name => match Zone::named(name) {
            Some(zone) => Some(zone.name().to_owned()),
            None => {
                let error = signed_in.locale.t("settings-unknown-zone");
                return page(&state, &signed_in, &headers, false, Some(error)).await;
            }
        },
    };
    let mut conn = state.db().await?;
    store::users::set_locale(&mut conn, signed_in.user_id, language, time_zone.as_deref()).await?;
    Ok(Redirect::to("/settings?saved=1").into_response())
}
