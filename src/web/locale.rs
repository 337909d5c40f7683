//! Which language and time zone a request is answered in: the person's settings, else the
//! browser's (`Accept-Language`; the zone `static/app.js` reports in the `tributary_tz`
//! cookie), else English and UTC.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::session::cookie;
use super::{AppState, WebError};
use crate::i18n::{Lang, Locale, Zone};

/// Set by the script to the browser's IANA time zone; read when the person chose none.
pub const TIME_ZONE_COOKIE: &str = "tributary_tz";

/// The browser's language, if the interface speaks one it asks for.
pub fn browser_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Lang::from_accept_language)
}

/// The browser's time zone, as its script reported it.
pub fn browser_zone(headers: &HeaderMap) -> Option<Zone> {
    cookie(headers, TIME_ZONE_COOKIE).and_then(|name| Zone::named(&name))
}

/// The settings first, then the browser.
pub fn choose(headers: &HeaderMap, language: Option<&str>, time_zone: Option<&str>) -> Locale {
    choose_with(headers, language, time_zone, browser_zone(headers))
}

/// [`choose`] with the browser's zone already read from the request.
pub fn choose_with(
    headers: &HeaderMap,
    language: Option<&str>,
    time_zone: Option<&str>,
    browser_zone: Option<Zone>,
) -> Locale {
    let lang = language
        .and_then(Lang::parse)
        .or_else(|| browser_lang(headers))
        .unwrap_or_default();
    let zone = time_zone
        .and_then(Zone::named)
        .or(browser_zone)
        .unwrap_or_else(Zone::utc);
    Locale::new(lang, zone)
}

/// For pages without a signed-in person (sign-in, set-up): the browser's choice.
impl FromRequestParts<AppState> for Locale {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, WebError> {
        Ok(choose(&parts.headers, None, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn settings_win_then_the_browser_then_english_and_utc() {
        let mut headers = HeaderMap::new();
        assert_eq!(choose(&headers, None, None).lang, Lang::En);
        assert_eq!(choose(&headers, None, None).zone.name(), "UTC");
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE,fr-FR;q=0.8,en;q=0.5"),
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tributary_tz=Europe/Paris"),
        );
        let browser = choose(&headers, None, None);
        assert_eq!(browser.lang, Lang::Fr);
        assert_eq!(browser.zone.name(), "Europe/Paris");
        let chosen = choose(&headers, Some("en"), Some("America/New_York"));
        assert_eq!(chosen.lang, Lang::En);
        assert_eq!(chosen.zone.name(), "America/New_York");
        // A zone nobody knows is ignored, not trusted.
        let bogus = choose(&headers, None, Some("Mars/Olympus_Mons"));
        assert_eq!(bogus.zone.name(), "Europe/Paris");
    }
}
