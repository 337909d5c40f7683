//! What every signed-in page shares: the top bar, the sidebar with folders and accounts
//! (with unread counts), the CSRF token for its forms, and the per-user stylesheet that
//! gives each account its colour without inline styles (the CSP forbids those).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use time::OffsetDateTime;
use uuid::Uuid;

use super::session::SignedIn;
use super::{AppState, WebError};
use crate::store;

/// Which sidebar entry is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Inbox,
    Starred,
    Trash,
    Compose,
    Sent,
    Drafts,
    Account(Uuid),
    Settings,
    Admin,
}

#[derive(Debug, Clone)]
pub struct SidebarAccount {
    pub id: Uuid,
    pub chip: String,
    pub label: String,
    /// "3", "99+", or empty for none.
    pub unread: String,
    pub current: bool,
}

/// A capped unread count as people read it; empty for zero.
pub fn count_label(count: i64) -> String {
    match count {
        0 => String::new(),
        n if n >= store::messages::UNREAD_COUNT_CAP => {
            format!("{}+", store::messages::UNREAD_COUNT_CAP - 1)
        }
        n => n.to_string(),
    }
}

/// The frame around every signed-in page.
#[derive(Debug, Clone)]
pub struct Shell {
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
    /// "3", "99+", or empty for none.
    pub unread_total: String,
    pub accounts: Vec<SidebarAccount>,
    /// The page being shown, for `aria-current` in the frame.
    pub nav: Nav,
    /// The search box's text.
    pub query: String,
    /// The zone the browser reported last (the script updates it when it differs).
    pub browser_zone: String,
}

impl Shell {
    pub async fn load(
        state: &AppState,
        signed_in: &SignedIn,
        nav: Nav,
        query: &str,
    ) -> Result<Self, WebError> {
        let mut conn = state.db().await?;
        Self::load_on(&mut conn, signed_in, nav, query).await
    }

    /// [`Shell::load`] on a connection the handler already holds.
    pub async fn load_on(
        conn: &mut sqlx::PgConnection,
        signed_in: &SignedIn,
        nav: Nav,
        query: &str,
    ) -> Result<Self, WebError> {
        let (counts, unread_total) =
            store::messages::unread_counts(conn, signed_in.user_id).await?;
        Ok(Self {
            email: signed_in.email.clone(),
            is_admin: signed_in.is_admin,
            csrf: signed_in.csrf.clone(),
            unread_total: count_label(unread_total),
            accounts: counts
                .into_iter()
                .map(|count| SidebarAccount {
                    id: count.account_id,
                    chip: chip_class(count.account_id),
                    current: nav == Nav::Account(count.account_id),
                    label: count.label,
                    unread: count_label(count.unread),
                })
                .collect(),
            nav,
            query: query.to_owned(),
            browser_zone: signed_in.browser_zone.clone().unwrap_or_default(),
        })
    }
}

/// The CSS class carrying an account's colour.
pub fn chip_class(account_id: Uuid) -> String {
    format!("chip-{}", account_id.simple())
}

/// A colour as `#rrggbb`, or the default when the stored value is anything else.
fn safe_color(color: &str) -> &str {
    if crate::accounts::is_color(color) {
        color
    } else {
        crate::accounts::DEFAULT_COLOR
    }
}

/// `GET /accounts.css`: one rule per account of the signed-in user.
pub async fn accounts_css_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<impl IntoResponse, WebError> {
    let mut conn = state.db().await?;
    let accounts = store::accounts::list(&mut conn, signed_in.user_id).await?;
    let mut css = String::new();
    for account in &accounts {
        css.push_str(&format!(
            ".{}{{--chip:{}}}\n",
            chip_class(account.id),
            safe_color(&account.color)
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        css,
    ))
}

/// RFC 3339, for `<time datetime>`.
pub fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_counts_are_safe() {
        assert_eq!(safe_color("#A0b1C2"), "#A0b1C2");
        assert_eq!(count_label(0), "");
        assert_eq!(count_label(12), "12");
        assert_eq!(count_label(99), "99");
        assert_eq!(count_label(100), "99+");
        assert_eq!(safe_color("red;}body{x"), crate::accounts::DEFAULT_COLOR);
    }
}
