//! Running the sending engine from tests: a submitter on the test database that may reach
//! loopback, with short deadlines and no wait between retries, and identities that point
//! at the test's own SMTP servers.

use std::sync::Arc;
use std::time::Duration;

use tributary::crypto::{KeyRing, Keys, Secret};
use tributary::model::Security;
use tributary::net::Connector;
use tributary::send::Submitter;
use tributary::sending::{IdentityDraft, MessageDraft, SendLimits, SendingService};
use tributary::store::outbox::OutboxMessage;
use uuid::Uuid;

use super::TestDb;

pub fn test_submitter(db: &TestDb, ring: &KeyRing) -> Submitter {
    let mut submitter = Submitter::new(
        db.pool.clone(),
        Arc::new(Keys::fixed(ring.clone())),
        Connector::new(true, Duration::from_secs(5)),
        format!("test-{}", Uuid::new_v4()),
    )
    .expect("submitter");
    submitter.timeouts.command = Duration::from_secs(5);
    submitter.timeouts.final_reply = Duration::from_secs(5);
    submitter.timeouts.session = Duration::from_secs(30);
    submitter.retry_delays = vec![Duration::ZERO];
    submitter
}

pub fn test_sending(db: &TestDb, ring: &KeyRing) -> SendingService {
    SendingService::new(Arc::new(test_submitter(db, ring)), SendLimits::default())
}

/// An identity on a loopback SMTP port, trusting `ca_pem`; POP3 login unless `login`.
pub fn identity_at(
    port: u16,
    security: Security,
    ca_pem: &str,
    login: Option<(&str, &str)>,
) -> IdentityDraft {
    IdentityDraft {
        from_name: "Alice Tester".into(),
        smtp_port: Some(port),
        smtp_security: security,
        tls_ca_pem: Some(ca_pem.to_owned()),
        smtp_username: login.map(|(user, _)| user.to_owned()),
        smtp_password: login.map(|(_, password)| Secret::new(password)),
        ..IdentityDraft::new("127.0.0.1")
    }
}

pub fn message_to(account_id: Uuid, to: &str, subject: &str, body: &str) -> MessageDraft {
    MessageDraft {
        account_id: Some(account_id),
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        ..MessageDraft::default()
    }
}

/// Runs outbox rounds until the message is settled (or 20 rounds passed).
pub async fn submit_until_settled(
    sending: &SendingService,
    user_id: Uuid,
    id: Uuid,
) -> OutboxMessage {
    for _ in 0..20 {
        tributary::send::worker::tick(sending.submitter())
            .await
            .expect("outbox round");
        let message = sending.get(user_id, id).await.expect("message");
        if message.state.is_final() {
            return message;
        }
    }
    sending.get(user_id, id).await.expect("message")
}
