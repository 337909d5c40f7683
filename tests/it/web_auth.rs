//! Signing in and out, sessions, CSRF and sign-in throttling, over real HTTP.

use crate::helpers::web::{USER_PASSWORD, WebClient, field_value};
use crate::helpers::{TestApp, TestDb, add_user};

#[tokio::test]
async fn sign_in_session_and_sign_out() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::new(&app);

    // Signed out, pages lead to the sign-in form and back.
    let inbox = web.get("/").await;
    assert_eq!(inbox.status, 303);
    assert_eq!(inbox.location.as_deref(), Some("/login"));
    let deep = web.get("/starred").await;
    assert_eq!(deep.location.as_deref(), Some("/login?next=%2Fstarred"));
    assert_eq!(web.get("/messages/1").await.status, 303);

    // The form's token must match its cookie.
    let form = web.get("/login").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("autocomplete=\"current-password\""));
    let token = field_value(&form.body, "token").expect("token");
    let forged = WebClient::new(&app)
        .post(
            "/login",
            &[
                ("token", &token),
                ("email", &ann.email),
                ("password", USER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "a token without its cookie is refused");

    let wrong = web.sign_in(&ann.email, "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("do not match"));
    assert!(!web.cookies.contains_key("tributary_session"));
    let nul = web
        .sign_in(&format!("{}\0", ann.email), USER_PASSWORD)
        .await;
    assert_eq!(nul.status, 401, "a NUL in the address is nobody's address");
    assert!(nul.body.contains("do not match"));
    let unknown = web.sign_in("nobody@example.org", USER_PASSWORD).await;
    assert_eq!(
        unknown.status, 401,
        "unknown users look like wrong passwords"
    );

    let ok = web.sign_in(&ann.email.to_uppercase(), USER_PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/"));
    let cookie = ok.headers["set-cookie"].to_str().expect("cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http test instance: {cookie}"
    );
    let token = web.cookies["tributary_session"].clone();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&db.pool)
        .await
        .expect("session row");
    assert_ne!(
        stored,
        token.as_bytes(),
        "only a hash of the token is stored"
    );

    let inbox = web.get("/").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains(&ann.email));
    assert!(!web.csrf.is_empty());

    // Signing out needs the CSRF token.
    let refused = web.post("/logout", &[("csrf", "wrong")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(web.get("/").await.status, 200, "still signed in");
    let out = web.submit("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert!(!web.cookies.contains_key("tributary_session"));
    // The old cookie is dead on the server too.
    let mut replay = WebClient::new(&app);
    replay.cookies.insert("tributary_session".into(), token);
    assert_eq!(replay.get("/").await.status, 303);
}

#[tokio::test]
async fn sessions_expire_when_idle_or_old_and_die_with_a_disabled_user() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;

    let mut idle = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '15 days'")
        .execute(&db.pool)
        .await
        .expect("age");
    assert_eq!(idle.get("/").await.status, 303, "idle for 15 days");

    let mut old = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&db.pool)
        .await
        .expect("expire");
    assert_eq!(old.get("/").await.status, 303, "past the absolute expiry");

    let mut active = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let mut conn = db.pool.acquire().await.expect("conn");
    tributary::store::users::set_disabled(&mut conn, ann.id, true)
        .await
        .expect("disable");
    assert_eq!(active.get("/").await.status, 303, "disabling signs out");
    let mut again = WebClient::new(&app);
    let refused = again.sign_in(&ann.email, USER_PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("disabled"));
}

#[tokio::test]
async fn failed_sign_ins_slow_down_per_user_even_with_the_right_password() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let bob = add_user(&db, "bob").await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::new(&app);
    for _ in 0..5 {
        assert_eq!(web.sign_in(&ann.email, "guess").await.status, 401);
    }
    let slowed = web.sign_in(&ann.email, USER_PASSWORD).await;
    assert_eq!(slowed.status, 429, "{}", slowed.body);
    assert!(slowed.body.contains("Too many failed sign-ins"));
    let retry: i64 = slowed.headers["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(!web.cookies.contains_key("tributary_session"));
    // Another user from the same address is not affected (the address allows more).
    assert_eq!(web.sign_in(&bob.email, USER_PASSWORD).await.status, 303);

    // The delay doubles: after waiting it out, one more failure means a longer wait.
    tokio::time::sleep(std::time::Duration::from_millis(1_100 * retry as u64)).await;
    let mut other = WebClient::new(&app);
    assert_eq!(other.sign_in(&ann.email, "guess").await.status, 401);
    let longer = other.sign_in(&ann.email, USER_PASSWORD).await;
    assert_eq!(longer.status, 429);
    let retry: i64 = longer.headers["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((2..=3).contains(&retry), "{retry}");

    // Per address: twenty failures over different names slow that address down.
    let so_far: i32 =
        sqlx::query_scalar("SELECT failures FROM login_failures WHERE key = 'addr:127.0.0.1'")
            .fetch_one(&db.pool)
            .await
            .expect("the address's count");
    assert_eq!(so_far, 6);
    let mut sprayer = WebClient::new(&app);
    for i in so_far..20 {
        let page = sprayer
            .sign_in(&format!("user{i}@example.org"), "guess")
            .await;
        assert_eq!(page.status, 401);
    }
    let blocked = sprayer.sign_in(&bob.email, USER_PASSWORD).await;
    assert_eq!(blocked.status, 429, "the address is slowed down");
    // No proxy is trusted here, so a forwarded-for header the client writes changes nothing.
    let spoofed = sprayer
        .sign_in_with(
            &bob.email,
            USER_PASSWORD,
            &[("x-forwarded-for", "203.0.113.50")],
        )
        .await;
    assert_eq!(
        spoofed.status, 429,
        "a made-up address does not escape the limit"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_counted_on_its_own() {
    let db = TestDb::new().await;
    let bob = add_user(&db, "bob").await;
    // The test client connects from 127.0.0.1: here that is the operator's reverse proxy.
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let attacker = [("x-forwarded-for", "6.6.6.6, 203.0.113.7")];
    let mut sprayer = WebClient::new(&app);
    for i in 0..20 {
        let page = sprayer
            .sign_in_with(&format!("user{i}@example.org"), "guess", &attacker)
            .await;
        assert_eq!(page.status, 401);
    }
    let blocked = sprayer
        .sign_in_with(&bob.email, USER_PASSWORD, &attacker)
        .await;
    assert_eq!(blocked.status, 429, "the attacker's address is slowed down");
    // Everyone else behind the same proxy still signs in.
    let mut someone = WebClient::new(&app);
    let page = someone
        .sign_in_with(
            &bob.email,
            USER_PASSWORD,
            &[("x-forwarded-for", "198.51.100.1")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let counted: Vec<(String, i32)> =
        sqlx::query_as("SELECT key, failures FROM login_failures WHERE key LIKE 'addr:%'")
            .fetch_all(&db.pool)
            .await
            .expect("counts");
    assert_eq!(counted, [("addr:203.0.113.7".to_owned(), 20)]);
}

#[tokio::test]
async fn csrf_and_cross_site_posts_are_refused_and_redirects_stay_local() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    // A right token from another site is still refused.
    let csrf = web.csrf.clone();
    let origin = web
        .post_with(
            "/logout",
            &[("csrf", &csrf)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(origin.status, 403);
    let fetch_site = web
        .post_with(
            "/logout",
            &[("csrf", &csrf)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(fetch_site.status, 403);
    assert_eq!(web.get("/").await.status, 200, "still signed in");
    let account = format!("/settings/accounts/{}", uuid::Uuid::new_v4());
    let (check, enabled, remove) = (
        format!("{account}/check"),
        format!("{account}/enabled"),
        format!("{account}/remove"),
    );
    for (path, form) in [
        ("/messages/actions", vec![("action", "trash"), ("id", "1")]),
        ("/check", vec![]),
        (
            "/settings/password",
            vec![
                ("current", "x"),
                ("password", "y"),
                ("password_confirm", "y"),
            ],
        ),
        ("/settings/accounts/new", vec![("action", "save")]),
        (account.as_str(), vec![("action", "save")]),
        (check.as_str(), vec![]),
        (enabled.as_str(), vec![("enabled", "false")]),
        (remove.as_str(), vec![("keep_messages", "true")]),
    ] {
        let mut fields = vec![("csrf", "forged")];
        fields.extend(form);
        let page = web.post(path, &fields).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("This form has expired"), "{path}");
    }
    // With the right token, an unknown account is simply not there.
    assert_eq!(web.submit(&check, &[]).await.status, 404);
    // A form missing a field gets our page, not the framework's text.
    let incomplete = web.submit(&remove, &[]).await;
    assert_eq!(incomplete.status, 400);
    assert!(
        incomplete.body.contains("incomplete or malformed"),
        "{}",
        incomplete.body
    );

    // After sign-in only local paths are followed.
    let mut other = WebClient::new(&app);
    let form = other.get("/login?next=//evil.example/").await;
    let token = field_value(&form.body, "token").expect("token");
    assert_eq!(field_value(&form.body, "next").as_deref(), Some("/"));
    let done = other
        .post(
            "/login",
            &[
                ("token", &token),
                ("email", &ann.email),
                ("password", USER_PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/"));
    let mut back = WebClient::new(&app);
    let form = back.get("/login?next=/trash").await;
    let token = field_value(&form.body, "token").expect("token");
    let done = back
        .post(
            "/login",
            &[
                ("token", &token),
                ("email", &ann.email),
                ("password", USER_PASSWORD),
                ("next", "/trash"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/trash"));
}

#[tokio::test]
async fn people_change_their_own_password() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;
    let mut elsewhere = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    assert_eq!(web.get("/settings/password").await.status, 200);

    let wrong = web
        .submit(
            "/settings/password",
            &[
                ("current", "not it"),
                ("password", "a brand new password"),
                ("password_confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("current password is wrong"));
    let short = web
        .submit(
            "/settings/password",
            &[
                ("current", USER_PASSWORD),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);

    let changed = web
        .submit(
            "/settings/password",
            &[
                ("current", USER_PASSWORD),
                ("password", "a brand new password"),
                ("password_confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    let page = web.get("/settings/password?changed=1").await;
    assert_eq!(page.status, 200, "this browser stays signed in");
    assert!(page.body.contains("has been changed"));
    assert_eq!(elsewhere.get("/").await.status, 303, "other sessions end");
    let mut fresh = WebClient::new(&app);
    assert_eq!(fresh.sign_in(&ann.email, USER_PASSWORD).await.status, 401);
    assert_eq!(
        fresh
            .sign_in(&ann.email, "a brand new password")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn administrators_create_disable_and_reset_users() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    sqlx::query("UPDATE users SET is_admin = true WHERE id = $1")
        .bind(ann.id)
        .execute(&db.pool)
        .await
        .expect("make admin");
    let app = TestApp::spawn(&db).await;
    let mut admin = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&ann.email));

    let weak = admin
        .submit(
            "/admin/users",
            &[("email", "cat@example.org"), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, 422);
    let created = admin
        .submit(
            "/admin/users",
            &[
                ("email", "cat@example.org"),
                ("password", "cat's first password"),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    let taken = admin
        .submit(
            "/admin/users",
            &[
                ("email", "CAT@example.org"),
                ("password", "cat's first password"),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already exists"));
    let cat_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'cat@example.org'")
            .fetch_one(&db.pool)
            .await
            .expect("cat");

    // Cat is no administrator: the page does not exist for her.
    let mut cat = WebClient::signed_in(&app, "cat@example.org", "cat's first password").await;
    assert_eq!(cat.get("/admin/users").await.status, 404);
    let own = format!("/admin/users/{}", ann.id);
    assert_eq!(cat.submit(&own, &[("action", "disable")]).await.status, 404);
    assert!(!cat.get("/").await.body.contains("/admin/users"));

    let cat_path = format!("/admin/users/{cat_id}");
    assert_eq!(
        admin
            .post(&cat_path, &[("csrf", "x"), ("action", "disable")])
            .await
            .status,
        403
    );
    let disabled = admin.submit(&cat_path, &[("action", "disable")]).await;
    assert_eq!(disabled.status, 200);
    assert!(disabled.body.contains("is disabled"));
    assert_eq!(cat.get("/").await.status, 303, "signed out at once");
    assert_eq!(
        WebClient::new(&app)
            .sign_in("cat@example.org", "cat's first password")
            .await
            .status,
        403
    );
    admin.submit(&cat_path, &[("action", "enable")]).await;
    let reset = admin
        .submit(
            &cat_path,
            &[("action", "reset"), ("password", "a reset password")],
        )
        .await;
    assert!(reset.body.contains("was reset"), "{}", reset.body);
    assert_eq!(
        WebClient::new(&app)
            .sign_in("cat@example.org", "a reset password")
            .await
            .status,
        303
    );
    let myself = admin.submit(&own, &[("action", "disable")]).await;
    assert_eq!(myself.status, 422);
    assert_eq!(
        admin
            .get(&format!("/admin/users/{}", uuid::Uuid::new_v4()))
            .await
            .status,
        405
    );
    assert_eq!(
        admin
            .submit(
                &format!("/admin/users/{}", uuid::Uuid::new_v4()),
                &[("action", "enable")]
            )
            .await
            .status,
        404
    );
}
