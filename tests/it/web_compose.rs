//! Writing mail in a real headless Chromium, sent through a real Postfix: "Send mail as"
//! set up and tested, a reply with the quoted original, a forward carrying the original's
//! attachment, a new message with an uploaded file saved as a draft and restored, the Sent
//! and Drafts lists, a refused address that keeps the draft, and the shortcuts c/r/f.

use std::time::Duration;

use mail_parser::MessageParser;
use tributary::model::Security;

use crate::helpers::browser::Browser;
use crate::helpers::{
    Dovecot, LOCAL_DOMAIN, Postfix, TempDir, TestApp, TestDb, add_server_account, add_user,
    fetch_now, test_fetcher,
};

const ALICE: (&str, &str) = ("alice", "alice's mailbox secret");

fn original() -> Vec<u8> {
    format!(
        "From: Bob Martin <bob@{LOCAL_DOMAIN}>\r\nTo: alice@{LOCAL_DOMAIN}\r\nSubject: Agenda\r\n\
         Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <agenda@{LOCAL_DOMAIN}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Shall we meet on Friday?\r\n--b\r\nContent-Type: text/plain; name=agenda.txt\r\n\
         Content-Disposition: attachment; filename=agenda.txt\r\n\r\n1. Budget\r\n--b--\r\n"
    )
    .into_bytes()
}

async fn wait_sent(browser: &Browser, app: &TestApp, count: usize) {
    for _ in 0..100 {
        browser.goto(&app.url("/sent")).await;
        browser.find("main").await;
        let sent = browser
            .execute("return document.querySelectorAll('[data-state=sent]').length;")
            .await;
        if sent.as_u64() == Some(count as u64) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the Sent page never showed {count} sent messages");
}

#[tokio::test]
async fn people_reply_forward_and_write_with_attachments_in_a_real_browser() {
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[ALICE]).await;
    let postfix = Postfix::start(&dovecot).await;
    let app = TestApp::spawn(&db).await;
    let user = add_user(&db, "writer").await;
    let account = add_server_account(
        &db,
        &app.ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ALICE,
        |a| {
            a.email = format!("alice@{LOCAL_DOMAIN}");
            a.label = "Alice at home".into();
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    dovecot.deliver("alice", "1.eml", &original());
    fetch_now(&test_fetcher(&db, &app.ring), account.id).await;
    let (message_id,): (i64,) = sqlx::query_as("SELECT id FROM messages WHERE account_id = $1")
        .bind(account.id)
        .fetch_one(&db.pool)
        .await
        .expect("fetched");

    let browser = Browser::start().await;
    browser.goto(&app.url("/login")).await;
    browser.fill("input[name=email]", &user.email).await;
    browser
        .fill("input[name=password]", crate::helpers::web::USER_PASSWORD)
        .await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Agenda").await;

    // No sending identity yet: the compose page says why and links to the fix.
    browser.press("c").await;
    browser.find("[data-cannot-send]").await;
    assert!(browser.url().await.ends_with("/compose"));
    browser
        .assert_accessible("compose without an identity")
        .await;
    browser.click("[data-cannot-send] a").await;
    browser.fill("input[name=from_name]", "Alice Martin").await;
    browser.fill("input[name=smtp_host]", "127.0.0.1").await;
    browser
        .fill(
            "input[name=smtp_port]",
            &postfix.implicit_tls_port.to_string(),
        )
        .await;
    browser.click("details summary").await;
    browser
        .fill("textarea[name=tls_ca_pem]", &postfix.certs.ca_pem)
        .await;
    // Tried before saving: it signs in, and nothing is stored.
    browser.click("[data-try-sending]").await;
    let tried = browser.text("[data-sending-notice]").await;
    assert!(
        tried.contains("Test sending worked") && tried.contains("nothing saved"),
        "{tried}"
    );
    let (identities,): (i64,) = sqlx::query_as("SELECT count(*) FROM sending_identities")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(identities, 0, "testing without saving saves nothing");
    browser.click("[data-test-sending]").await;
    // The page before had a notice too: wait for the one saying it was saved.
    browser.wait_for_text("Saved. Test sending worked").await;
    browser.assert_accessible("send mail as").await;
    assert_eq!(postfix.delivered().len(), 0, "testing sends nothing");

    // Reply with "r" from the message: the original is quoted.
    browser
        .goto(&app.url(&format!("/messages/{message_id}")))
        .await;
    browser.find(".message-view").await;
    browser.press("r").await;
    browser.find("form[data-compose]").await;
    let to = browser
        .execute("return document.getElementById('to').value;")
        .await;
    assert_eq!(to, format!("\"Bob Martin\" <bob@{LOCAL_DOMAIN}>"));
    let body = browser
        .execute("return document.getElementById('body').value;")
        .await;
    assert!(
        body.as_str()
            .is_some_and(|b| b.contains("Bob Martin wrote:\n> Shall we meet on Friday?")),
        "{body}"
    );
    browser.assert_accessible("reply").await;
    browser
        .execute("var b = document.getElementById('body'); b.value = 'Yes, Friday works.' + b.value; return true;")
        .await;
    browser.click("[data-send]").await;
    browser.wait_for_text("Your message is on its way").await;
    wait_sent(&browser, &app, 1).await;
    browser.assert_accessible("sent").await;
    let delivered = postfix.wait_delivered(1).await;
    let reply = MessageParser::default()
        .parse(&delivered[0])
        .expect("parses");
    assert_eq!(reply.subject(), Some("Re: Agenda"));
    assert_eq!(
        reply.in_reply_to().as_text(),
        Some(format!("agenda@{LOCAL_DOMAIN}").as_str())
    );
    let text = reply.body_text(0).expect("text");
    assert!(
        text.starts_with("Yes, Friday works.") && text.contains("> Shall we meet"),
        "{text}"
    );
    assert_eq!(
        reply.from().and_then(|f| f.first()).and_then(|a| a.name()),
        Some("Alice Martin")
    );
    // The reply sits in the combined inbox beside the original, marked "Sent" and named
    // by its recipient; it opens like any message.
    browser.goto(&app.url("/")).await;
    browser.find("[data-message-list] [data-sent]").await;
    let sent_row = browser
        .execute(
            "var row = document.querySelector('[data-message-list] [data-sent]').closest('li'); \
             return row.querySelector('.sender').textContent + ' | ' + row.querySelector('.subject').textContent;",
        )
        .await;
    assert_eq!(
        sent_row.as_str(),
        Some(format!("To: Bob Martin <bob@{LOCAL_DOMAIN}> | Re: Agenda").as_str()),
        "{sent_row}"
    );
    browser.assert_accessible("inbox with sent mail").await;
    browser
        .click("[data-message-list] li:has([data-sent]) a.row")
        .await;
    browser.find("h1 [data-sent]").await;

    // Forward with "f": the original's attachment goes along.
    browser
        .goto(&app.url(&format!("/messages/{message_id}")))
        .await;
    browser.find(".message-view").await;
    browser.press("f").await;
    browser.find("input[name=forward_as]").await;
    assert_eq!(
        browser
            .execute("return document.getElementById('subject').value;")
            .await,
        "Fwd: Agenda"
    );
    browser.fill("#to", &format!("carol@{LOCAL_DOMAIN}")).await;
    browser.click("[data-send]").await;
    browser.wait_for_text("Your message is on its way").await;
    let delivered = postfix.wait_delivered(2).await;
    let forward = MessageParser::default()
        .parse(&delivered[1])
        .expect("parses");
    assert_eq!(forward.subject(), Some("Fwd: Agenda"));
    assert_eq!(
        forward.attachment(0).map(|a| a.contents()),
        Some(&b"1. Budget"[..])
    );

    // A new message with an uploaded file, saved as a draft, found again and sent.
    let files = TempDir::new();
    let file = files.path().join("minutes.txt");
    std::fs::write(&file, "Minutes of the meeting\n").expect("file");
    browser.goto(&app.url("/")).await;
    browser.find("[data-message-list]").await;
    browser.press("c").await;
    browser.fill("#to", &format!("dan@{LOCAL_DOMAIN}")).await;
    browser.fill("#subject", "Minutes").await;
    browser.fill("#body", "Here they are.").await;
    browser.attach("#attachment", &file).await;
    browser.click("[data-save-draft]").await;
    browser.wait_for_text("Draft saved.").await;
    browser.goto(&app.url("/drafts")).await;
    browser.wait_for_text("Minutes").await;
    browser.assert_accessible("drafts").await;
    browser.click(".outbox-item a.button").await;
    browser.find("input[name=keep]").await;
    assert_eq!(
        browser
            .execute("return document.getElementById('subject').value;")
            .await,
        "Minutes"
    );
    assert_eq!(
        browser
            .execute("return document.getElementById('body').value;")
            .await,
        "Here they are."
    );
    browser.wait_for_text("minutes.txt").await;
    browser.assert_accessible("a restored draft").await;
    browser.click("[data-send]").await;
    browser.wait_for_text("Your message is on its way").await;
    let delivered = postfix.wait_delivered(3).await;
    let minutes = MessageParser::default()
        .parse(&delivered[2])
        .expect("parses");
    assert_eq!(minutes.subject(), Some("Minutes"));
    assert_eq!(
        minutes.attachment(0).map(|a| a.contents()),
        Some(&b"Minutes of the meeting\n"[..])
    );
    browser.goto(&app.url("/drafts")).await;
    browser.wait_for_text("No drafts.").await;

    // A refused address: not sent, said why, and the text is kept as a draft.
    browser.goto(&app.url("/compose")).await;
    browser.fill("#to", "not an address").await;
    browser.fill("#body", "Keep me").await;
    browser.click("[data-send]").await;
    let error = browser.text("[data-compose-error]").await;
    assert!(
        error.contains("Not sent") && error.contains("not an email address"),
        "{error}"
    );
    assert_eq!(
        browser
            .execute("return document.getElementById('body').value;")
            .await,
        "Keep me"
    );
    browser.goto(&app.url("/drafts")).await;
    browser.find(".outbox-item").await;
    browser.screenshot("drafts").await;
    browser.quit().await;
    app.stop().await;
}
