//! The interface in French in a real browser: a browser that asks for French gets every
//! main page in French (with `<html lang="fr">`), dates in the time zone the browser
//! reports, French plurals and a French error status — each page passing the
//! accessibility audit; the language chosen in Settings then wins over the browser's.
//! Screenshots: `target/screenshots/*-fr.png`.

use tributary::model::Security;

use crate::helpers::browser::Browser;

use crate::helpers::web::{USER_PASSWORD, deliver_at};
use crate::helpers::{
    TestApp, TestDb, add_account, add_server_account, add_user, fetch_now, free_port, test_fetcher,
    test_key_ring,
};

fn mail(subject: &str, date: &str) -> Vec<u8> {
    format!(
        "From: =?UTF-8?Q?Ren=C3?= =?UTF-8?Q?=A9e_Dupont?= <renee@example.org>\r\n\
         To: ann@example.org\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, voici le compte rendu.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn the_main_pages_speak_french_to_a_french_browser_and_pass_the_audit() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let account = add_account(&db, &ring, ann.id, "Travail", "pw").await;
    let at = time::macros::datetime!(2026-03-02 23:30 UTC);
    let first = deliver_at(
        &db,
        ann.id,
        account.id,
        "m1",
        &mail(
            "=?UTF-8?Q?Ordre_du_jour_r=C3=A9vis=C3?= =?UTF-8?Q?=A9?=",
            "Mon, 02 Mar 2026 23:30:00 +0000",
        ),
        at,
    )
    .await;
    // An account the server refused: its status line is an error in French.
    sqlx::query("UPDATE accounts SET paused_reason = 'auth' WHERE id = $1")
        .bind(account.id)
        .execute(&db.pool)
        .await
        .expect("paused");
    // An account whose last check failed (nothing listens on its port): the scheduler
    // stored the error in no language, and the pages word it in the reader's.
    let closed = add_server_account(
        &db,
        &ring,
        ann.id,
        free_port(),
        Security::Tls,
        ("perso", "pw"),
        |_| {},
    )
    .await;
    fetch_now(&test_fetcher(&db, &ring), closed.id).await;
    let app = TestApp::spawn(&db).await;
    let browser = Browser::start().await;
    browser.prefer_languages("fr-FR,fr;q=0.9,en;q=0.5").await;
    browser.use_time_zone("Europe/Paris").await;

    browser.goto(&app.url("/login")).await;
    browser.find("input[name=email]").await;
    assert_eq!(
        browser
            .execute("return document.documentElement.lang;")
            .await,
        "fr"
    );
    assert!(browser.title().await.starts_with("Se connecter"));
    browser.assert_accessible("la connexion").await;
    // A refusal, in French too.
    browser.fill("input[name=email]", &ann.email).await;
    browser
        .fill("input[name=password]", "pas le bon mot de passe")
        .await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("Cette adresse e-mail et ce mot de passe ne correspondent pas.")
        .await;
    browser.assert_accessible("un refus de connexion").await;
    browser.fill("input[name=email]", &ann.email).await;
    browser.fill("input[name=password]", USER_PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Boîte de réception").await;
    // The first page taught the server the browser's zone: the next one uses it.
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Ordre du jour révisé").await;
    let row = browser.text(".messages .message").await;
    assert!(row.contains("Renée Dupont"), "{row}");
    let shown = browser
        .execute("return document.querySelector('.messages time').textContent;")
        .await;
    assert_eq!(shown, "3 mars", "23:30 UTC is the next day in Paris");
    let title = browser
        .execute("return document.querySelector('.messages time').title;")
        .await;
    assert_eq!(title, "3 mars 2026 à 00:30");
    browser.assert_accessible("la boîte de réception").await;
    browser.screenshot("inbox-fr").await;

    browser.goto(&app.url(&format!("/messages/{first}"))).await;
    browser.wait_for_text("Répondre à tous").await;
    assert!(
        browser
            .text("dl.headers")
            .await
            .contains("3 mars 2026 à 00:30")
    );
    browser.assert_accessible("un message").await;

    browser.goto(&app.url("/settings/accounts")).await;
    browser
        .wait_for_text("Consulter le courrier d'autres comptes")
        .await;
    let status = browser
        .text(&format!(
            "[data-account-id=\"{}\"] [data-status]",
            account.id
        ))
        .await;
    // (WebDriver reports the no-break space before the colon as a plain one.)
    assert!(
        status.starts_with("En pause") && status.contains(": le serveur a refusé le mot de passe"),
        "{status}"
    );
    let failed = browser
        .text(&format!(
            "[data-account-id=\"{}\"] [data-status]",
            closed.id
        ))
        .await;
    assert!(
        failed.contains("Impossible de se connecter au serveur : le serveur a refusé la connexion"),
        "{failed}"
    );
    browser.assert_accessible("les comptes").await;
    browser.screenshot("accounts-fr").await;
    browser
        .goto(&app.url(&format!("/settings/accounts/{}", closed.id)))
        .await;
    browser.wait_for_text("Vérifications récentes").await;
    let history = browser.text("main").await;
    assert!(
        history
            .contains("Impossible de se connecter au serveur : le serveur a refusé la connexion"),
        "{history}"
    );
    // An error page, worded for the signed-in reader though the handler's error knew no
    // request.
    browser
        .goto(&app.url(&format!("/settings/accounts/{}", uuid::Uuid::new_v4())))
        .await;
    browser.wait_for_text("Introuvable").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Il n'y a rien à cette adresse.")
    );
    assert!(browser.title().await.starts_with("Introuvable"));
    browser.assert_accessible("une page d'erreur").await;
    browser.screenshot("error-fr").await;

    browser
        .goto(&app.url(&format!("/settings/accounts/{}", account.id)))
        .await;
    browser.wait_for_text("Vérifications récentes").await;
    browser.assert_accessible("le formulaire du compte").await;
    browser.goto(&app.url("/settings/accounts/new")).await;
    browser
        .wait_for_text("Ajouter un compte de messagerie")
        .await;
    browser.assert_accessible("l'ajout d'un compte").await;
    browser
        .goto(&app.url(&format!("/settings/accounts/{}/remove", account.id)))
        .await;
    // French counts one message in the singular.
    browser.wait_for_text("Le message déjà relevé").await;
    browser.assert_accessible("la suppression").await;

    // Settings: the time zone the browser reported is offered; English is chosen there
    // and wins over the browser's French.
    browser.goto(&app.url("/settings")).await;
    browser.wait_for_text("Langue et fuseau horaire").await;
    assert!(
        browser
            .text("select[name=time_zone] option")
            .await
            .contains("Europe/Paris"),
    );
    browser.assert_accessible("les paramètres").await;
    browser.click("input[name=language][value=en]").await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("Your settings are saved").await;
    assert_eq!(
        browser
            .execute("return document.documentElement.lang;")
            .await,
        "en"
    );
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Mark unread").await;
    assert_eq!(
        browser
            .execute("return document.querySelector('.messages time').textContent;")
            .await,
        "3 Mar"
    );
    browser.assert_accessible("the inbox in English").await;
    let stored: Option<String> = sqlx::query_scalar("SELECT language FROM users WHERE id = $1")
        .bind(ann.id)
        .fetch_one(&db.pool)
        .await
        .expect("setting");
    assert_eq!(stored.as_deref(), Some("en"));
    browser.quit().await;
}
