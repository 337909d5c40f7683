//! Sending mail: the one service the web pages, the REST API and the CLI call to set up
//! an account's sending identity, test it, write drafts and send. Each workflow is written
//! here once; handlers only parse, call and render.
//!
//! - [`IdentityDraft`] / [`MessageDraft`] — what a person asks for, validated here;
//! - [`SendingService`] — the workflows, over `store`, `send` and `crypto`;
//! - [`SendingError`] — what goes wrong, mapped to HTTP once by web and by api.

mod draft;
mod error;

use crate::i18n::Text;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

use draft::ValidIdentity;
pub use draft::{IdentityDraft, MessageDraft};
pub use error::SendingError;

use crate::net::discover::Found;
use crate::send::autodetect::SmtpAutodetect;
use crate::send::compose::{self, Outgoing, Sender, Thread};
use crate::send::{SendingReport, SubmitError, Submitter};
use crate::store::identities::{self, Identity, SmtpLogin};
use crate::store::outbox::{self, OutboxMessage, OutboxState};
use crate::store::{self, StoreError};

/// What one user may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub max_message_bytes: u64,
    pub max_recipients: usize,
    pub per_hour: u64,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: crate::config::DEFAULT_SEND_MAX_BYTES,
            max_recipients: crate::config::DEFAULT_SEND_MAX_RECIPIENTS as usize,
            per_hour: crate::config::DEFAULT_SEND_PER_HOUR,
        }
    }
}

/// An uploaded file's name as it is kept: a browser may send a full path (old Edge, IE),
/// so only the last part.
pub fn upload_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .trim()
        .to_owned()
}

/// What "Test sending" found: the report, or the problem in the submission's words.
pub type SendingTest = Result<SendingReport, SubmitError>;

/// The sending workflows. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SendingService {
    submitter: Arc<Submitter>,
    limits: SendLimits,
    /// Wakes this process's outbox worker when a message is queued.
    wake: Arc<Notify>,
    /// Finds a domain's submission server; `None` where nobody sets up identities (CLI).
    autodetect: Option<Arc<SmtpAutodetect>>,
}

impl SendingService {
    pub fn new(submitter: Arc<Submitter>, limits: SendLimits) -> Self {
        Self {
            submitter,
            limits,
            wake: Arc::new(Notify::new()),
            autodetect: None,
        }
    }

    /// Lets [`Self::discover_server`] search DNS and probe servers.
    pub fn with_autodetect(mut self, autodetect: Arc<SmtpAutodetect>) -> Self {
        self.autodetect = Some(autodetect);
        self
    }

    /// The submission server for the domain of `address` (SRV records, then the usual
    /// names), or `None` when nothing answered or the address has no domain.
    pub async fn discover_server(&self, address: &str) -> Option<Found> {
        let (_, domain) = address.trim().rsplit_once('@')?;
        self.autodetect.as_ref()?.discover(domain).await
    }

    /// What the outbox worker waits on.
    pub fn wake_handle(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    pub fn submitter(&self) -> &Arc<Submitter> {
        &self.submitter
    }

    pub fn limits(&self) -> SendLimits {
        self.limits
    }

    async fn conn(&self) -> Result<store::Conn, StoreError> {
        store::acquire(&self.submitter.pool).await
    }

    /// The account's sending identity, if it has one.
    pub async fn identity(
        &self,
        user_id: Uuid,
        account_id: Uuid,
    ) -> Result<Option<Identity>, SendingError> {
        let mut conn = self.conn().await?;
        store::accounts::get(&mut conn, user_id, account_id).await?;
        Ok(identities::get(&mut conn, user_id, account_id).await?)
    }

    /// Every sending identity of the user.
    pub async fn identities(&self, user_id: Uuid) -> Result<Vec<Identity>, SendingError> {
        let mut conn = self.conn().await?;
        Ok(identities::list(&mut conn, user_id).await?)
    }

    /// The files attached to one of the user's messages or drafts, in order.
    pub async fn attachments(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Vec<outbox::Attachment>, SendingError> {
        let mut conn = self.conn().await?;
        Ok(outbox::attachments(&mut conn, user_id, id).await?)
    }

    /// Creates or replaces the account's sending identity. Blank fields take the
    /// account's values: its address as From, its POP3 login for SMTP.
    pub async fn save_identity(
        &self,
        user_id: Uuid,
        account_id: Uuid,
        draft: IdentityDraft,
    ) -> Result<Identity, SendingError> {
        let mut conn = self.conn().await?;
        let account = store::accounts::get(&mut conn, user_id, account_id).await?;
        let existing = identities::get(&mut conn, user_id, account_id).await?;
        let valid = draft.validate(&account)?;
        let login = smtp_login(&valid, existing.as_ref())?;
        let ring = self.submitter.keys.current().map_err(SendingError::Keys)?;
        Ok(identities::save(
            &mut conn,
            &ring,
            user_id,
            account_id,
            &valid.settings,
            login,
        )
        .await?)
    }

    /// "Test sending" with settings as typed, before (or instead of) saving them: signs in,
    /// sends nothing, stores nothing.
    pub async fn test_unsaved(
        &self,
        user_id: Uuid,
        account_id: Uuid,
        draft: IdentityDraft,
    ) -> Result<SendingTest, SendingError> {
        let mut conn = self.conn().await?;
        let account = store::accounts::get(&mut conn, user_id, account_id).await?;
        let existing = identities::get(&mut conn, user_id, account_id).await?;
        drop(conn);
        let valid = draft.validate(&account)?;
        let login = smtp_login(&valid, existing.as_ref())?;
        Ok(self
            .submitter
            .test_unsaved(user_id, account_id, &valid.settings, login)
            .await)
    }

    pub async fn remove_identity(
        &self,
        user_id: Uuid,
        account_id: Uuid,
    ) -> Result<(), SendingError> {
        // Removing what is not there is not an error: the account ends up without an
        // identity either way (it still receives).
        let mut conn = self.conn().await?;
        store::accounts::get(&mut conn, user_id, account_id).await?;
        match identities::delete(&mut conn, user_id, account_id).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// "Test sending" with the saved identity: signs in, sends nothing.
    pub async fn test_identity(
        &self,
        user_id: Uuid,
        account_id: Uuid,
    ) -> Result<SendingTest, SendingError> {
        self.identity(user_id, account_id)
            .await?
            .ok_or(SendingError::NoIdentity)?;
        let (settings, credentials) = match self.submitter.credentials(user_id, account_id).await {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.submitter.test(&settings, &credentials).await)
    }

    /// Saves a draft (new when `id` is `None`).
    pub async fn save_draft(
        &self,
        user_id: Uuid,
        id: Option<Uuid>,
        draft: MessageDraft,
    ) -> Result<OutboxMessage, SendingError> {
        let composition = draft.composition_unchecked();
        let mut conn = self.conn().await?;
        if let Some(account_id) = composition.account_id {
            store::accounts::get(&mut conn, user_id, account_id).await?;
        }
        // Only the user's own mail can be answered (another user's id is as unknown as
        // one that never existed).
        if let Some(message_id) = composition.in_reply_to
            && !store::messages::exists(&mut conn, user_id, message_id).await?
        {
            return Err(SendingError::invalid(
                "in_reply_to",
                Text::new("invalid-reply-unknown"),
            ));
        }
        Ok(outbox::save_draft(
            &mut conn,
            user_id,
            id,
            &composition,
            Some(&draft.attachments),
        )
        .await?)
    }

    /// Checks, builds and queues a message (a new one, or the draft `id`). It is stored
    /// before anything is sent; the outbox worker takes it from there.
    pub async fn send(
        &self,
        user_id: Uuid,
        id: Option<Uuid>,
        draft: MessageDraft,
    ) -> Result<OutboxMessage, SendingError> {
        let checked = draft.check(&self.limits)?;
        let mut conn = self.conn().await?;
        let account_id = checked.composition.account_id.ok_or_else(|| {
            SendingError::invalid("account_id", Text::new("invalid-choose-account"))
        })?;
        store::accounts::get(&mut conn, user_id, account_id).await?;
        let identity = identities::get(&mut conn, user_id, account_id)
            .await?
            .ok_or(SendingError::NoIdentity)?;
        self.check_rate(&mut conn, user_id).await?;
        let thread = match checked.composition.in_reply_to {
            Some(message_id) => Some(thread_of(&mut conn, user_id, message_id).await?),
            None => None,
        };
        let sender = Sender {
            name: identity.from_name.clone(),
            address: identity.from_address.clone(),
            reply_to: identity.reply_to.clone(),
            signature: identity.signature.clone(),
        };
        let built = compose::build(&Outgoing {
            sender: &sender,
            to: &checked.to,
            cc: &checked.cc,
            bcc: &checked.bcc,
            subject: &checked.composition.subject,
            body: &checked.composition.body,
            attachments: &draft.attachments,
            thread: thread.as_ref(),
            date: OffsetDateTime::now_utc(),
        })?;
        let size = u64::try_from(built.raw.len()).unwrap_or(u64::MAX);
        if size > self.limits.max_message_bytes {
            return Err(SendingError::TooLarge {
                size,
                limit: self.limits.max_message_bytes,
            });
        }
        let queued = outbox::queue(
            &mut conn,
            user_id,
            id,
            &checked.composition,
            Some(&draft.attachments),
            &built,
        )
        .await?;
        self.wake.notify_one();
        Ok(queued)
    }

    async fn check_rate(
        &self,
        conn: &mut sqlx::PgConnection,
        user_id: Uuid,
    ) -> Result<(), SendingError> {
        let window = Duration::from_secs(3600);
        let since = OffsetDateTime::now_utc() - window;
        let sent = outbox::queued_since(conn, user_id, since).await?;
        if u64::try_from(sent).unwrap_or(0) < self.limits.per_hour {
            return Ok(());
        }
        let oldest = outbox::oldest_queued_since(conn, user_id, since)
            .await?
            .unwrap_or(since);
        let free_at = oldest + window;
        let wait = (free_at - OffsetDateTime::now_utc()).max(time::Duration::seconds(1));
        Err(SendingError::RateLimited {
            retry_after: Duration::from_secs(wait.whole_seconds().unsigned_abs()),
        })
    }

    pub async fn get(&self, user_id: Uuid, id: Uuid) -> Result<OutboxMessage, SendingError> {
        let mut conn = self.conn().await?;
        outbox::get(&mut conn, user_id, id)
            .await?
            .ok_or(SendingError::NotFound)
    }

    pub async fn list(
        &self,
        user_id: Uuid,
        states: &[OutboxState],
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, SendingError> {
        let mut conn = self.conn().await?;
        Ok(outbox::list(&mut conn, user_id, states, limit).await?)
    }

    pub async fn delete(&self, user_id: Uuid, id: Uuid) -> Result<(), SendingError> {
        let mut conn = self.conn().await?;
        Ok(outbox::delete(&mut conn, user_id, id).await?)
    }

    /// "Send again" for a failed or uncertain message: the person's decision.
    pub async fn resend(&self, user_id: Uuid, id: Uuid) -> Result<(), SendingError> {
        let mut conn = self.conn().await?;
        outbox::resend(&mut conn, user_id, id).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Waits until the message is settled (sent, failed or uncertain) or `timeout`
    /// passes; returns it as it then stands. For the CLI and tests.
    pub async fn wait_settled(
        &self,
        user_id: Uuid,
        id: Uuid,
        timeout: Duration,
    ) -> Result<OutboxMessage, SendingError> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let message = self.get(user_id, id).await?;
            if message.state.is_final() || tokio::time::Instant::now() >= until {
                return Ok(message);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Which login validated settings ask for: the POP3 one, a new one of their own, or the
/// one stored (a separate user name kept without typing its password again).
fn smtp_login<'a>(
    valid: &'a ValidIdentity,
    existing: Option<&Identity>,
) -> Result<SmtpLogin<'a>, SendingError> {
    match (&valid.smtp_username, &valid.smtp_password) {
        (None, _) => Ok(SmtpLogin::SameAsPop3),
        (Some(username), Some(password)) => Ok(SmtpLogin::Own { username, password }),
        (Some(username), None) => {
            let same_user = existing
                .and_then(|e| e.smtp_username.as_deref())
                .is_some_and(|stored| stored == username);
            if same_user {
                Ok(SmtpLogin::Keep)
            } else {
                Err(SendingError::invalid(
                    "smtp_password",
                    Text::new("invalid-smtp-password-missing"),
                ))
            }
        }
    }
}

/// The threading headers of a stored message the user answers.
async fn thread_of(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    message_id: i64,
) -> Result<Thread, SendingError> {
    let raw = store::messages::raw(conn, user_id, message_id)
        .await?
        .ok_or_else(|| SendingError::invalid("in_reply_to", Text::new("invalid-reply-unknown")))?;
    let parsed = mail_parser::MessageParser::default().parse_headers(&raw);
    Ok(Thread {
        message_id: parsed
            .as_ref()
            .and_then(|m| m.message_id())
            .map(str::to_owned),
        references: parsed
            .as_ref()
            .and_then(|m| m.references().as_text_list())
            .unwrap_or_default()
            .iter()
            .map(|r| r.to_string())
            .collect(),
    })
}
