//! The pages in a real headless Chromium: first-run set-up, the add-account wizard against
//! Dovecot, live "Check mail now", reading, searching, starring and trashing, keyboard
//! shortcuts, phone width — and hostile mail that must neither run script nor load
//! anything until "Show images" is clicked. Screenshots go to `target/screenshots/`.

use std::time::Duration;

use tributary::store::accounts::Security;

use crate::helpers::browser::Browser;
use crate::helpers::canary::Canary;
use crate::helpers::fake_dns::FakeDns;
use crate::helpers::{Dovecot, TestApp, TestDb, add_server_account, add_user};

const MAILBOX_PASSWORD: &str = "alice's mailbox secret";
const ADMIN_PASSWORD: &str = "the admin's long password";

fn mail(subject: &str, body: &str, minute: u32) -> Vec<u8> {
    format!(
        "From: Carol Sender <carol@example.org>\r\nTo: alice@example.test\r\nSubject: {subject}\r\n\
         Date: Fri, 27 Nov 2026 09:{minute:02}:00 +0000\r\nMessage-ID: <{minute}.{}@example.org>\r\n\r\n{body}\r\n",
        subject.len()
    )
    .into_bytes()
}

async fn no_horizontal_scroll(browser: &Browser) -> bool {
    browser
        .execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
        .await
        == serde_json::Value::Bool(true)
}

#[tokio::test]
async fn a_new_instance_is_set_up_and_used_in_a_real_browser() {
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    dovecot.deliver(
        "alice",
        "1.test",
        &mail("Quarterly report", "Numbers attached.", 1),
    );
    dovecot.deliver(
        "alice",
        "2.test",
        &mail("Lunch on Friday", "Bring pistachio cake.", 2),
    );
    let dns = FakeDns::announcing_pop3s(dovecot.tls_port).await;
    let dns_address = dns.address.to_string();
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_DNS_SERVER", &dns_address)]).await;
    let code = app.setup_code.clone().expect("setup code");
    let browser = Browser::start().await;

    // First run: the setup page, then straight into the (empty) inbox.
    browser.goto(&app.url("/")).await;
    browser.find("input[name=code]").await;
    assert!(browser.url().await.ends_with("/setup"));
    browser.assert_accessible("setup").await;
    browser.fill("input[name=code]", &code).await;
    browser.fill("input[name=email]", "admin@example.org").await;
    browser.fill("input[name=password]", ADMIN_PASSWORD).await;
    browser
        .fill("input[name=password_confirm]", ADMIN_PASSWORD)
        .await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("No mail here yet").await;
    browser.assert_accessible("the empty inbox").await;
    for (path, page) in [
        ("/admin/users", "people"),
        ("/settings/password", "password"),
        ("/settings/accounts/new", "add account"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.find("main").await;
        browser.assert_accessible(page).await;
    }
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("No mail here yet").await;

    // The wizard: address first, the server is proposed.
    browser.click("a.add-account").await;
    browser
        .fill("input[name=email]", "alice@example.test")
        .await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("Found pop.example.test").await;
    browser.assert_accessible("the account form").await;
    // One click (script) switches the user name without leaving the page.
    let url = browser.url().await;
    browser.click("[data-set-username]").await;
    assert_eq!(
        browser
            .execute("return document.getElementById('username').value;")
            .await,
        "alice"
    );
    assert_eq!(browser.url().await, url);
    browser.fill("input[name=password]", MAILBOX_PASSWORD).await;
    browser.click("details.advanced summary").await;
    browser.click("input[name=trust][value=ca]").await;
    browser
        .fill("textarea[name=tls_ca_pem]", &dovecot.certs.ca_pem)
        .await;
    browser.click("button[value=test]").await;
    browser.find("[data-test-result]").await;
    let result = browser.text("[data-test-result]").await;
    assert!(result.contains("Connected securely"), "{result}");
    assert!(result.contains("2 messages waiting"), "{result}");
    assert!(
        browser
            .execute(
                "return document.documentElement.outerHTML.includes(\"alice's mailbox secret\");"
            )
            .await
            == serde_json::Value::Bool(false),
        "the page never holds the password"
    );
    browser.click("button[value=save]").await;
    browser.wait_for_text("The account is saved").await;
    browser.wait_for_text("Last checked").await;
    browser.screenshot("accounts-desktop").await;
    browser.assert_accessible("accounts-desktop").await;

    // The inbox, then mail arriving while it is open: no reload, it just appears.
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Lunch on Friday").await;
    assert!(
        browser.title().await.starts_with("Inbox (2)"),
        "{}",
        browser.title().await
    );
    browser
        .execute("window.__stayed = true; return true;")
        .await;
    dovecot.deliver("alice", "3.test", &mail("Fresh arrival", "Just now.", 3));
    browser.click("[data-check-all]").await;
    browser.wait_for_text("Fresh arrival").await;
    assert_eq!(
        browser.execute("return window.__stayed === true;").await,
        true,
        "no reload"
    );
    browser
        .wait_until(
            "the tab title to count 3",
            "return document.title.startsWith('Inbox (3)');",
        )
        .await;
    browser.screenshot("inbox-desktop").await;
    browser.assert_accessible("inbox-desktop").await;

    // Keyboard: j selects, o opens, s stars, u goes back.
    browser.press("j").await;
    browser.press("o").await;
    browser
        .wait_until(
            "a message page",
            "return location.pathname.startsWith('/messages/');",
        )
        .await;
    browser.find(".message-view").await;
    browser.screenshot("message-desktop").await;
    browser.assert_accessible("message-desktop").await;
    browser.press("s").await;
    browser.wait_for_text("Unstar").await;
    browser.press("u").await;
    browser
        .wait_until("the inbox", "return location.pathname === '/';")
        .await;
    browser.press("?").await;
    assert_eq!(
        browser
            .execute("return !document.getElementById('shortcuts').hidden;")
            .await,
        true
    );
    browser.press("\u{E00C}").await; // Escape

    // Search marks the match.
    browser.fill("#search-box", "pistachio\u{E007}").await;
    browser
        .wait_until(
            "search results",
            "return location.search.includes('q=pistachio');",
        )
        .await;
    assert_eq!(
        browser.text(".messages mark").await.to_lowercase(),
        "pistachio"
    );
    assert_eq!(
        browser
            .execute("return document.querySelectorAll('.messages .message').length;")
            .await,
        1
    );

    // Starred holds the starred message; trash it from there.
    browser.goto(&app.url("/starred")).await;
    browser.find(".messages .message").await;
    assert_eq!(
        browser
            .execute("return document.querySelectorAll('.messages .message').length;")
            .await,
        1
    );
    browser.click(".messages input[name=id]").await;
    browser.click("button[value=trash]").await;
    browser.wait_for_text("No mail here yet").await;
    browser.goto(&app.url("/trash")).await;
    assert_eq!(
        browser
            .execute("return document.querySelectorAll('.messages .message').length;")
            .await,
        1
    );

    // Phone width: nothing wider than the screen.
    browser.set_width(360).await;
    for (path, name) in [
        ("/", "inbox-phone"),
        ("/settings/accounts", "accounts-phone"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.find("main").await;
        assert!(
            no_horizontal_scroll(&browser).await,
            "{path} scrolls sideways at 360 px"
        );
        browser.screenshot(name).await;
        browser.assert_accessible(name).await;
    }
    browser.goto(&app.url("/")).await;
    browser.click(".messages a.row").await;
    browser.find(".message-view").await;
    assert!(
        no_horizontal_scroll(&browser).await,
        "a message scrolls sideways at 360 px"
    );
    browser.screenshot("message-phone").await;
    browser.assert_accessible("message-phone").await;

    // The dark colours pass too.
    browser.prefer_dark(true).await;
    assert_eq!(
        browser
            .execute("return matchMedia('(prefers-color-scheme: dark)').matches;")
            .await,
        true
    );
    for (path, page) in [
        ("/", "inbox (dark)"),
        ("/settings/accounts", "accounts (dark)"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.find("main").await;
        browser.assert_accessible(page).await;
    }
    browser.goto(&app.url("/")).await;
    browser.click(".messages a.row").await;
    browser.find(".message-view").await;
    browser.assert_accessible("message (dark)").await;

    // The audit itself finds problems: an image without a text alternative is one.
    browser
        .execute(
            "document.querySelector('main').append(document.createElement('img')); return true;",
        )
        .await;
    let problems = browser.accessibility_problems().await;
    assert!(
        problems.iter().any(|p| p.contains("image-alt")),
        "{problems:?}"
    );
    browser.quit().await;
}

fn hostile_messages(canary: &Canary) -> Vec<Vec<u8>> {
    let c = |path: &str| canary.url(path);
    let html = format!(
        "<p>Dear customer</p>\
         <script>window.pwned=1;new Image().src='{script}';</script>\
         <img src=x onerror=\"window.pwned=2;new Image().src='{script}'\">\
         <a id=js href=\"javascript:window.pwned=3\">click me</a>\
         <svg onload=\"window.pwned=4\"><image href=\"{other}svg\"/></svg>\
         <math><maction actiontype=statusline href=\"javascript:window.pwned=5\">x</maction></math>\
         <style>@import url('{other}import'); body {{ background: url('{other}cssbg') }}</style>\
         <link rel=stylesheet href=\"{other}link\">\
         <div style=\"background-image:url('{other}inline')\">styled</div>\
         <meta http-equiv=refresh content=\"0;url={other}refresh\">\
         <base href=\"{other}base/\">\
         <form action=\"{other}form\"><input name=q><button>go</button></form>\
         <iframe src=\"{other}iframe\"></iframe><object data=\"{other}object\"></object>\
         <embed src=\"{other}embed\"><video poster=\"{other}poster\" src=\"{other}video\"></video>\
         <audio src=\"{other}audio\"></audio><table background=\"{other}table\"><tr><td>t</td></tr></table>\
         <input type=image src=\"{other}input\"><img srcset=\"{other}srcset 2x\">\
         <img src=\"{image}\" alt=\"tracking pixel\">\
         <a href=\"data:text/html,<script>alert(1)</script>\">data link</a>",
        script = c("/script-ran"),
        other = c("/blocked-"),
        image = c("/img/pixel.gif"),
    );
    vec![
        format!(
            "From: Mallory <m@evil.example>\r\nTo: alice@example.test\r\nSubject: Hostile HTML\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        )
        .into_bytes(),
        format!(
            "From: Mallory <m@evil.example>\r\nTo: alice@example.test\r\nSubject: Hostile alternative\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nPlain <script>window.pwned=6</script> javascript:window.pwned=7\r\n--b\r\n\
             Content-Type: text/html\r\n\r\n<body onload=\"window.pwned=8\" background=\"{bg}\"><p>hi</p></body>\r\n--b--\r\n",
            bg = c("/blocked-body")
        )
        .into_bytes(),
        "From: Mallory <m@evil.example>\r\nTo: alice@example.test\r\nSubject: Hostile text\r\n\r\n\
         <script>window.pwned=9</script><img src=x onerror=window.pwned=10> javascript:alert(1)\r\n"
            .as_bytes()
            .to_vec(),
    ]
}

#[tokio::test]
async fn hostile_mail_runs_no_script_and_loads_nothing_until_asked() {
    let db = TestDb::new().await;
    let canary = Canary::start().await;
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    let hostile = hostile_messages(&canary);
    for (i, message) in hostile.iter().enumerate() {
        dovecot.deliver("alice", &format!("{i}.hostile"), message);
    }
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;
    let account = add_server_account(
        &db,
        &app.ring,
        ann.id,
        dovecot.tls_port,
        Security::Tls,
        ("alice", MAILBOX_PASSWORD),
        |a| a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone()),
    )
    .await;
    tributary::fetch::check_now(&db.pool, ann.id, account.id)
        .await
        .expect("check now");
    let mut ids: Vec<i64> = Vec::new();
    for _ in 0..100 {
        ids = sqlx::query_scalar("SELECT id FROM messages ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .expect("ids");
        if ids.len() == hostile.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        ids.len(),
        hostile.len(),
        "the hostile mail was fetched through Dovecot"
    );

    let browser = Browser::start().await;
    browser.goto(&app.url("/login")).await;
    browser.fill("input[name=email]", &ann.email).await;
    browser
        .fill("input[name=password]", crate::helpers::web::USER_PASSWORD)
        .await;
    browser.assert_accessible("sign-in").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Hostile HTML").await;
    for id in &ids {
        browser.goto(&app.url(&format!("/messages/{id}"))).await;
        browser.find(".message-view").await;
        if browser.exists("iframe.mail-body").await {
            browser
                .wait_until(
                    "the mail body to load",
                    "const f = document.querySelector('iframe.mail-body'); return !!f && f.getAttribute('sandbox') === 'allow-popups allow-popups-to-escape-sandbox';",
                )
                .await;
        }
        // Links in the text stay text unless they are http(s).
        assert_eq!(
            browser
                .execute("return document.querySelectorAll('a[href^=\"javascript\"]').length;")
                .await,
            0
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            browser.execute("return typeof window.pwned;").await,
            "undefined",
            "message {id}"
        );
        assert_eq!(
            browser.url().await,
            app.url(&format!("/messages/{id}")),
            "no redirect"
        );
    }
    // The body documents themselves, opened directly, are sandboxed by their CSP too.
    browser
        .goto(&app.url(&format!("/messages/{}/body", ids[0])))
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        browser.execute("return typeof window.pwned;").await,
        "undefined"
    );
    assert!(
        canary.hits().is_empty(),
        "requests before Show images: {:?}",
        canary.hits()
    );

    // Only the reader's click lets images (and only images) load.
    browser
        .goto(&app.url(&format!("/messages/{}", ids[0])))
        .await;
    browser.click(".images-blocked a").await;
    for _ in 0..100 {
        if !canary.hits().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = canary.hits();
    assert!(hits.contains(&"/img/pixel.gif".to_owned()), "{hits:?}");
    assert!(
        hits.iter().all(|path| path == "/img/pixel.gif"),
        "only the image loaded: {hits:?}"
    );
    assert_eq!(
        browser.execute("return typeof window.pwned;").await,
        "undefined"
    );
    browser.quit().await;
}
