//! What every signed-in page shares: the top bar, the sidebar with folders and accounts
//! (with unread counts), the CSRF token for its forms, and the per-user stylesheet that
//! gives each account its colour without inline styles (the CSP forbids those).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem as FormatItem;
use time::macros::format_description;
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

/// Dates as lists show them (UTC here; `static/app.js` rewrites them in the reader's
/// time zone): the time for today, the day for this year, else the full date.
pub fn short_date(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let now = now.to_offset(time::UtcOffset::UTC);
    let format: &[FormatItem<'_>] = if at.date() == now.date() {
        format_description!("[hour]:[minute]")
    } else if at.year() == now.year() {
        format_description!("[month repr:short] [day padding:none]")
    } else {
        format_description!("[year]-[month]-[day]")
    };
    at.format(format).unwrap_or_default()
}

/// The full date and time, for titles and the message header.
pub fn full_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[day padding:none] [month repr:short] [year] [hour]:[minute] UTC"
        ))
        .unwrap_or_default()
}

/// "3 minutes ago", "in 2 hours", for status lines.
pub fn relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - at).whole_seconds();
    let (amount, future) = if seconds < 0 {
        (-seconds, true)
    } else {
        (seconds, false)
    };
    let text = match amount {
        0..=44 => {
            return if future {
                "in a moment".into()
            } else {
                "just now".into()
            };
        }
        45..=5_399 => plural((amount + 30) / 60, "minute"),
        5_400..=129_599 => plural((amount + 1_800) / 3_600, "hour"),
        _ => plural((amount + 43_200) / 86_400, "day"),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// RFC 3339, for `<time datetime>`.
pub fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_read_naturally() {
        let now = datetime!(2026-11-28 12:00 UTC);
        assert_eq!(short_date(datetime!(2026-11-28 09:05 UTC), now), "09:05");
        assert_eq!(short_date(datetime!(2026-03-02 09:05 UTC), now), "Mar 2");
        assert_eq!(
            short_date(datetime!(2024-03-02 09:05 UTC), now),
            "2024-03-02"
        );
        assert_eq!(
            relative(datetime!(2026-11-28 11:57 UTC), now),
            "3 minutes ago"
        );
        assert_eq!(
            relative(datetime!(2026-11-28 11:59:50 UTC), now),
            "just now"
        );
        assert_eq!(relative(datetime!(2026-11-28 14:00 UTC), now), "in 2 hours");
        assert_eq!(relative(datetime!(2026-11-25 12:00 UTC), now), "3 days ago");
        assert_eq!(
            full_date(datetime!(2026-03-02 09:05 UTC)),
            "2 Mar 2026 09:05 UTC"
        );
        assert_eq!(safe_color("#A0b1C2"), "#A0b1C2");
        assert_eq!(count_label(0), "");
        assert_eq!(count_label(12), "12");
        assert_eq!(count_label(99), "99");
        assert_eq!(count_label(100), "99+");
        assert_eq!(safe_color("red;}body{x"), crate::accounts::DEFAULT_COLOR);
    }
}
