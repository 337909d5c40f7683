//! Logging. Lines go to stderr so command output on stdout (a key, a user list) stays clean.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `TRIBUTARY_LOG` (or `RUST_LOG`) overrides `default_filter`.
pub fn init(default_filter: &str) {
    let filter = std::env::var("TRIBUTARY_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for people; log collectors get plain text.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .try_init();
}

/// A failed request's error, put into the response's extensions by the error type that
/// answered it (`web::WebError`, `api::ApiError`), so that [`log_failed_requests`] logs
/// it once, inside the request's span, with its whole chain of causes.
#[derive(Debug, Clone)]
pub struct FailedRequest {
    /// A server-side fault (logged as an error) or a refused request (a warning).
    pub server_fault: bool,
    /// The error and its causes, outermost first.
    pub error: String,
}

impl FailedRequest {
    pub fn server_fault(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            server_fault: true,
            error: causes(error),
        }
    }

    pub fn refused(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            server_fault: false,
            error: causes(error),
        }
    }
}

/// `error: cause: cause…`, each cause once (many errors print their source already).
pub fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// Logs the [`FailedRequest`] a response carries: the one place a handler's error is
/// logged (an axum `map_response` layer, inside the request's trace span).
pub async fn log_failed_requests(response: axum::response::Response) -> axum::response::Response {
    if let Some(failed) = response.extensions().get::<FailedRequest>() {
        let status = response.status().as_u16();
        if failed.server_fault {
            tracing::error!(status, error = %failed.error, "request failed");
        } else {
            tracing::warn!(status, error = %failed.error, "request refused");
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_are_listed_once_each() {
        let error = Outer(std::io::Error::other("disk gone"));
        assert_eq!(causes(&error), "outer: disk gone");
        let repeated = std::io::Error::other("disk gone");
        assert_eq!(causes(&repeated), "disk gone");
    }
}
