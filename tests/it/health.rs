use crate::helpers::{TestApp, TestDb};

#[tokio::test]
async fn healthz_answers_200_while_the_database_answers_and_503_after() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;

    let ok = app.get("/healthz").await;
    assert_eq!(ok.status(), 200);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let body: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({ "status": "ok", "database": "ok" })
    );

    // Take the database away under the running server.
    TestDb::drop_database(&db.name).await;
    let down = app.get("/healthz").await;
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    for path in [
        "/",
        "/setup",
        "/healthz",
        "/no-such-page",
        "/static/style.css",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(!headers["x-request-id"].is_empty(), "{path}");
    }
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status(), 404);
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/css")
    );
}
