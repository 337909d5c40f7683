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

#[tokio::test]
async fn metrics_with_a_token_answer_only_to_that_token() {
    let db = TestDb::new().await;
    let token = "0123456789abcdef-scrape";
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_METRICS_TOKEN", token)]).await;
    let metrics = |authorization: Option<String>| {
        let mut request = app.http.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };

    let anonymous = metrics(None).await.expect("GET");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    let body = anonymous.text().await.expect("body");
    assert!(!body.contains("tributary_"), "{body}");
    assert!(!body.contains(token));
    for wrong in [
        format!("Bearer {token}x"),
        "Bearer ".to_owned(),
        format!("Basic {token}"),
        token.to_owned(),
    ] {
        let refused = metrics(Some(wrong.clone())).await.expect("GET");
        assert_eq!(refused.status(), 401, "{wrong}");
    }
    let scraped = metrics(Some(format!("Bearer {token}"))).await.expect("GET");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.expect("body");
    assert!(
        text.lines().any(|l| l == "tributary_fetch_leases_held 0"),
        "{text}"
    );
    // The health check stays open for load balancers.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}
