//! The service as a value: [`App::build`] connects, migrates and loads keys;
//! [`App::serve`] runs it on a listener until `shutdown` resolves. `main` and the
//! tests drive the same code.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use tokio::sync::watch;

use crate::config::Config;
use crate::crypto::{CryptoError, KeyFileOutcome, Keys};
use crate::fetch::{self, FetchError, Fetcher, Scheduler, SchedulerSettings};
use crate::first_run::SetupGate;
use crate::net::Connector;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::{api, web};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot reach the database: {0}")]
    Database(#[source] StoreError),
    #[error(transparent)]
    Migrate(StoreError),
    #[error("master key: {0}")]
    Keys(#[from] CryptoError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("fetch engine: {0}")]
    Fetch(#[from] FetchError),
    #[error("sending: {0}")]
    Send(#[from] crate::send::SubmitError),
    #[error(transparent)]
    Dns(#[from] crate::net::dns::DnsError),
}

/// How long a connection attempt (DNS included) may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// How long shutdown waits for fetch runs to commit the mail they hold.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Debug)]
pub struct App {
    state: AppState,
    setup_code: Option<String>,
}

impl App {
    /// Connects to (and creates) the database, applies migrations and loads the key ring.
    pub async fn build(config: Config) -> Result<Self, AppError> {
        let (keys, outcome) = Keys::load(config.master_key.clone())?;
        if outcome == KeyFileOutcome::Created
            && let Some(path) = config.master_key.path()
        {
            tracing::warn!(
                "created a new master key at {} — back it up and keep it secret: \
                 losing it means re-entering every remote account password",
                path.display()
            );
        }
        // Every fetch run holds a connection while it stores; pages and the API need some too.
        let pool_size = u32::try_from(config.fetch_concurrency)
            .unwrap_or(u32::MAX)
            .saturating_add(store::DEFAULT_MAX_CONNECTIONS / 2)
            .max(store::DEFAULT_MAX_CONNECTIONS);
        let pool = store::connect_sized(&config.database_url, pool_size)
            .await
            .map_err(AppError::Database)?;
        store::migrate(&pool).await.map_err(AppError::Migrate)?;

        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| AppError::Database(e.into()))?;
        let needs_setup = store::users::any_exist(&mut conn)
            .await
            .map(|exists| !exists)
            .map_err(AppError::Database)?;
        drop(conn);
        let (setup, setup_code) = if needs_setup {
            let (gate, code) = SetupGate::open()?;
            (gate, Some(code))
        } else {
            (SetupGate::closed(), None)
        };

        let keys = Arc::new(keys);
        // With TRIBUTARY_DNS_SERVER, remote hosts resolve through that server everywhere;
        // otherwise through the system (getaddrinfo, which honours /etc/hosts).
        let resolver = match config.dns_server {
            Some(server) => Some(crate::net::dns::resolver(Some(server))?),
            None => crate::net::dns::resolver(None)
                .inspect_err(|error| tracing::warn!(%error, "no DNS for server autodetection"))
                .ok(),
        };
        let connector = match (&config.dns_server, &resolver) {
            (Some(_), Some(resolver)) => Connector::with_resolver(
                config.allow_private_hosts,
                CONNECT_TIMEOUT,
                Arc::new(crate::net::dns::DnsResolve(resolver.clone())),
            ),
            _ => Connector::new(config.allow_private_hosts, CONNECT_TIMEOUT),
        };
        let autodetect = Arc::new(fetch::autodetect::autodetect(
            resolver.clone(),
            connector.clone(),
            &crate::pop3::tls::Trust::WebPki,
        )?);
        let api_limiter = Arc::new(crate::tokens::RateLimiter::new(
            config.api_requests_per_minute,
        ));
        let oauth = crate::oauth::OAuth::new(
            config.oauth.clone(),
            connector.clone(),
            config.public_url.as_deref(),
        );
        let mut submitter = crate::send::Submitter::new(
            pool.clone(),
            Arc::clone(&keys),
            connector.clone(),
            fetch::scheduler::owner_id(),
        )?;
        submitter.oauth = oauth.clone();
        let smtp_autodetect = Arc::new(crate::send::autodetect::autodetect(
            resolver,
            connector.clone(),
            &crate::tls::Trust::WebPki,
        )?);
        let sending = crate::sending::SendingService::new(Arc::new(submitter), config.send_limits)
            .with_autodetect(smtp_autodetect);
        let mut fetcher = Fetcher::new(
            pool.clone(),
            Arc::clone(&keys),
            connector.clone(),
            config.max_message_bytes,
        )?;
        fetcher.set_write_budget(config.fetch_memory_bytes);
        fetcher.oauth = oauth;
        let fetcher = Arc::new(fetcher);
        Ok(Self {
            state: AppState {
                pool,
                keys,
                config: Arc::new(config),
                setup: Arc::new(setup),
                accounts: crate::accounts::AccountService::new(Arc::clone(&fetcher)),
                sending,
                fetcher,
                autodetect,
                api_limiter,
            },
            setup_code,
        })
    }

    /// The one-time code for `/setup`, while no user exists.
    pub fn setup_code(&self) -> Option<&str> {
        self.setup_code.as_deref()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The fetch engine's settings from the configuration.
    pub fn scheduler_settings(config: &Config) -> SchedulerSettings {
        SchedulerSettings {
            concurrency: config.fetch_concurrency,
            per_host: config.per_host_concurrency,
            lease: fetch::worker::LeaseSettings {
                owner: fetch::scheduler::owner_id(),
                lease: config.fetch_lease,
                poll_floor: config.poll_floor,
            },
            shutdown_grace: SHUTDOWN_GRACE,
            idle_poll: fetch::scheduler::DEFAULT_IDLE_POLL,
        }
    }

    /// Serves pages and runs the fetch scheduler until `shutdown` resolves; then finishes
    /// the requests in flight and lets fetch runs commit what they hold.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let address = listener.local_addr()?;
        let url = match &self.state.config.public_url {
            Some(url) => url.clone(),
            None => format!("http://{address}"),
        };
        tracing::info!("Tributary is listening on {address}; open {url}");
        if let Some(code) = &self.setup_code {
            tracing::warn!(
                "no user exists yet: open {url}/setup and enter the setup code {code} \
                 to create the administrator"
            );
        }
        let pool = self.state.pool.clone();
        let (stop, stopped) = watch::channel(false);
        let scheduler = Scheduler::new(
            Arc::clone(&self.state.fetcher),
            Self::scheduler_settings(&self.state.config),
        );
        let outbox = tokio::spawn(crate::send::worker::run(
            (**self.state.sending.submitter()).clone(),
            self.state.sending.wake_handle(),
            stopped.clone(),
        ));
        let scheduler = tokio::spawn(scheduler.run(stopped));
        let upkeep = tokio::spawn(crate::maintenance::run(pool.clone()));
        let server = axum::serve(
            listener,
            web::router(self.state, api::router().0)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let served = server.await;
        // Its open batch rolls back; the next start carries on.
        upkeep.abort();
        if let Err(error) = scheduler.await {
            tracing::warn!(%error, "the fetch scheduler ended abnormally");
        }
        // A submission in flight finishes first: stopping it between the final dot and
        // the server's answer would leave the message "may have been sent".
        if let Err(error) = outbox.await {
            tracing::warn!(%error, "the outbox worker ended abnormally");
        }
        served?;
        pool.close().await;
        tracing::info!("Tributary stopped");
        Ok(())
    }
}

/// Resolves on SIGTERM (Docker, systemd) or Ctrl-C.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not at the first poll: a SIGTERM or Ctrl-C that
    // arrives while the service is still starting must stop it gracefully, not kill it.
    #[cfg(unix)]
    let handlers = [
        tokio::signal::unix::SignalKind::terminate(),
        tokio::signal::unix::SignalKind::interrupt(),
    ]
    .map(tokio::signal::unix::signal);
    async move {
        #[cfg(unix)]
        {
            let [terminate, interrupt] = handlers;
            let wait = |handler: std::io::Result<tokio::signal::unix::Signal>| async move {
                match handler {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
