//! First run: while no user exists, `/` leads to `/setup`, where whoever can read the
//! server's log (it prints a one-time setup code) creates the administrator. A stranger
//! who finds a freshly exposed instance cannot claim it without that code.

use std::sync::Mutex;

use super::form::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{AppState, WebError};
use crate::crypto::{self, Secret};
use crate::users::{self, MIN_PASSWORD_CHARS, UserError};

/// Letters and digits that cannot be mistaken for one another when copied from a log.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// 12 symbols of 31: about 59 bits, far beyond guessing over HTTP.
const CODE_SYMBOLS: usize = 12;

/// Holds the setup code while set-up is open.
#[derive(Debug, Default)]
pub struct SetupGate {
    code: Mutex<Option<Secret>>,
}

impl SetupGate {
    /// Opens set-up with a fresh code, returned for the log.
    pub fn open() -> Result<(Self, String), crypto::CryptoError> {
        let code = generate_code()?;
        let gate = Self {
            code: Mutex::new(Some(Secret::new(code.clone()))),
        };
        Ok((gate, code))
    }

    pub fn closed() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Secret>> {
        match self.code.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn is_open(&self) -> bool {
        self.lock().is_some()
    }

    fn accepts(&self, typed: &str) -> bool {
        match &*self.lock() {
            Some(code) => crypto::constant_time_eq(
                normalize_code(code.expose()).as_bytes(),
                normalize_code(typed).as_bytes(),
            ),
            None => false,
        }
    }

    fn close(&self) {
        *self.lock() = None;
    }
}

fn generate_code() -> Result<String, crypto::CryptoError> {
    let random = crypto::random_bytes::<CODE_SYMBOLS>()?;
    let mut code = String::with_capacity(CODE_SYMBOLS + 2);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        // 256 % 31 leaves a bias of under 1% per symbol: irrelevant at 59 bits.
        code.push(char::from(
            CODE_ALPHABET[usize::from(*byte) % CODE_ALPHABET.len()],
        ));
    }
    Ok(code)
}

/// People type codes with spaces, lower case or without the dashes.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    error: Option<String>,
    email: String,
    min_password: usize,
}

/// 404 once set-up is over, so the page does not even reveal that it existed.
async fn setup_is_open(state: &AppState) -> Result<bool, WebError> {
    if !state.setup.is_open() {
        return Ok(false);
    }
    let mut conn = state
        .pool
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    if crate::store::users::any_exist(&mut conn).await? {
        // Someone used the CLI (or another replica) meanwhile.
        state.setup.close();
        return Ok(false);
    }
    Ok(true)
}

pub async fn setup_get(State(state): State<AppState>) -> Result<Response, WebError> {
    if !setup_is_open(&state).await? {
        return Err(WebError::NotFound);
    }
    Ok(SetupPage {
        error: None,
        email: String::new(),
        min_password: MIN_PASSWORD_CHARS,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    code: String,
    email: String,
    password: String,
    password_confirm: String,
}

pub async fn setup_post(
    State(state): State<AppState>,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if !setup_is_open(&state).await? {
        return Err(WebError::NotFound);
    }
    let password = Secret::new(form.password);
    let confirm = Secret::new(form.password_confirm);
    let again = |status: StatusCode, error: String| {
        Ok((
            status,
            SetupPage {
                error: Some(error),
                email: form.email.clone(),
                min_password: MIN_PASSWORD_CHARS,
            },
        )
            .into_response())
    };
    if !state.setup.accepts(&form.code) {
        tracing::warn!("set-up attempt with a wrong setup code");
        return again(
            StatusCode::FORBIDDEN,
            "That setup code is wrong. Copy it from the server's log.".into(),
        );
    }
    if password != confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ.".into(),
        );
    }
    let mut conn = state
        .pool
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    match users::create_first_admin(&mut conn, &form.email, &password).await {
        Ok(Some(user)) => {
            state.setup.close();
            tracing::info!(user_id = %user.id, "administrator created through /setup");
            drop(conn);
            // Straight in: whoever just chose the password need not type it again.
            let cookie = super::session::start(&state, user.id).await?;
            Ok((
                [(axum::http::header::SET_COOKIE, cookie)],
                Redirect::to("/"),
            )
                .into_response())
        }
        Ok(None) => {
            state.setup.close();
            Err(WebError::NotFound)
        }
        Err(e @ (UserError::InvalidEmail(_) | UserError::WeakPassword(_))) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_accepted_loosely() {
        let (gate, code) = SetupGate::open().expect("code");
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(gate.accepts(&code));
        assert!(gate.accepts(&code.to_lowercase().replace('-', " ")));
        assert!(!gate.accepts("AAAA-AAAA-AAAA"));
        assert!(!gate.accepts(""));
        gate.close();
        assert!(!gate.accepts(&code));
    }
}
