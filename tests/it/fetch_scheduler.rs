//! The scheduler: slow and hung servers occupy only their own slot, "check mail now"
//! wakes it at once, and shutdown releases every lease.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tributary::fetch::{Scheduler, SchedulerSettings};
use tributary::store::accounts::Security;

use crate::helpers::fake_pop3::{FakePop3, Step};
use crate::helpers::{
    Dovecot, TestDb, add_server_account, add_user, lease_settings, sample_message, stored_messages,
    test_fetcher, test_key_ring,
};

async fn wait_until<F: Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {limit:?}: {what}");
}

#[tokio::test]
async fn hung_and_trickling_servers_do_not_delay_a_healthy_account() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "scheduler").await;
    let hung = FakePop3::start(vec![Step::Hang]).await;
    let trickle = FakePop3::start(vec![Step::Trickle(
        b"+OK a very slow server greets you\r\n".to_vec(),
        Duration::from_secs(1),
    )])
    .await;
    let dovecot = Dovecot::start(&[("healthy", "pw")]).await;
    dovecot.deliver("healthy", "1.test", &sample_message(1, 3_000));

    for port in [hung.port, trickle.port] {
        add_server_account(
            &db,
            &ring,
            user.id,
            port,
            Security::PlaintextDangerous,
            ("u", "p"),
            |_| {},
        )
        .await;
    }
    let healthy = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ("healthy", "pw"),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;

    let mut fetcher = test_fetcher(&db, &ring);
    fetcher.timeouts.read_idle = Duration::from_secs(30);
    let settings = SchedulerSettings {
        concurrency: 8,
        per_host: 8,
        lease: lease_settings(),
        shutdown_grace: Duration::from_secs(2),
        // Longer than the test: only a notification can wake the scheduler for "check now".
        idle_poll: Duration::from_secs(120),
    };
    let owner = settings.lease.owner.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(Scheduler::new(Arc::new(fetcher), settings).run(stopped));

    wait_until(
        Duration::from_secs(10),
        "the healthy account is fetched",
        || async {
            let (finished,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM fetch_runs WHERE account_id = $1 AND outcome = 'success'",
            )
            .bind(healthy.id)
            .fetch_one(&db.pool)
            .await
            .expect("runs");
            finished == 1 && stored_messages(&db, healthy.id).await.len() == 1
        },
    )
    .await;
    let (running,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts WHERE lease_owner = $1")
        .bind(&owner)
        .fetch_one(&db.pool)
        .await
        .expect("leases");
    assert_eq!(
        running, 2,
        "the hung and the slow account are still being fetched"
    );

    // "Check mail now" wakes the scheduler through NOTIFY, well before its next poll.
    // Nobody waits for that run, so its start is not announced (a NOTIFY serialises the
    // commits of everyone sending one).
    let mut run_starts = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .expect("listener");
    run_starts
        .listen(tributary::store::fetch::RUN_STARTED_CHANNEL)
        .await
        .expect("listen");
    dovecot.deliver("healthy", "2.test", &sample_message(2, 3_000));
    let asked = Instant::now();
    tributary::fetch::check_now(&db.pool, user.id, healthy.id)
        .await
        .expect("check now");
    wait_until(
        Duration::from_secs(20),
        "check now fetches the new message",
        || async { stored_messages(&db, healthy.id).await.len() == 2 },
    )
    .await;
    // Waited for longer than allowed, so a slow wake-up fails here rather than in the wait.
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "check now took {:?}",
        asked.elapsed()
    );
    // The run's start was committed before its message was, so an announcement would be
    // on the listener's connection by now.
    let unannounced = tokio::time::timeout(Duration::from_millis(500), run_starts.recv()).await;
    assert!(
        unannounced.is_err(),
        "a run nobody waits for announced its start: {unannounced:?}"
    );
    // A check someone waits for is announced, with the account's id. Asked once the last
    // run has released the account: a check asked during a run is answered by that run.
    wait_until(Duration::from_secs(20), "the last run ends", || async {
        let (held,): (bool,) =
            sqlx::query_as("SELECT lease_owner IS NOT NULL FROM accounts WHERE id = $1")
                .bind(healthy.id)
                .fetch_one(&db.pool)
                .await
                .expect("lease");
        !held
    })
    .await;
    dovecot.deliver("healthy", "3.test", &sample_message(3, 3_000));
    tributary::store::fetch::check_now_awaited(&db.pool, user.id, healthy.id)
        .await
        .expect("check now, awaited");
    let announced = tokio::time::timeout(Duration::from_secs(10), run_starts.recv())
        .await
        .expect("the awaited run announces its start")
        .expect("notification");
    assert_eq!(announced.payload(), healthy.id.to_string());
    wait_until(
        Duration::from_secs(20),
        "the awaited check fetches the new message",
        || async { stored_messages(&db, healthy.id).await.len() == 3 },
    )
    .await;

    // Shutdown: bounded by the grace period, and no lease survives it.
    let stopping = Instant::now();
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), scheduler)
        .await
        .expect("the scheduler stops in bounded time")
        .expect("scheduler task");
    assert!(
        stopping.elapsed() < Duration::from_secs(6),
        "{:?}",
        stopping.elapsed()
    );
    let (held,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM accounts WHERE lease_owner IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .expect("leases");
    assert_eq!(held, 0);
    let (open,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM fetch_runs WHERE finished_at IS NULL")
            .fetch_one(&db.pool)
            .await
            .expect("runs");
    assert_eq!(open, 0, "interrupted runs are closed as cancelled");
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_a_live_one_is_not() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "leases").await;
    let account =
        add_server_account(&db, &ring, user.id, 110, Security::Tls, ("u", "p"), |_| {}).await;
    let lease = Duration::from_secs(30);
    let first = tributary::store::fetch::claim_due(&db.pool, "worker-a", lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    // Held: neither the scheduler of another replica nor an operator's fetch gets it.
    assert!(
        tributary::store::fetch::claim_due(&db.pool, "worker-b", lease, 10, &[])
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        tributary::store::fetch::claim_one(&db.pool, "worker-b", lease, account.id)
            .await
            .expect("claim")
            .is_none()
    );
    // The holder renews; a stranger cannot.
    assert!(
        tributary::store::fetch::renew(&db.pool, "worker-a", account.id, lease)
            .await
            .expect("renew")
    );
    assert!(
        !tributary::store::fetch::renew(&db.pool, "worker-b", account.id, lease)
            .await
            .expect("renew")
    );
    // Worker A dies; its lease runs out; B takes over and A can no longer renew.
    // (Time passes: the claim put the next check at the lease's end, so both are past.)
    sqlx::query(
        "UPDATE accounts SET lease_expires_at = now() - interval '1 second',
             next_check_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(account.id)
    .execute(&db.pool)
    .await
    .expect("expire");
    let taken = tributary::store::fetch::claim_due(&db.pool, "worker-b", lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1);
    assert!(
        !tributary::store::fetch::renew(&db.pool, "worker-a", account.id, lease)
            .await
            .expect("renew")
    );
    // Busy hosts are left for later.
    let other =
        add_server_account(&db, &ring, user.id, 110, Security::Tls, ("v", "p"), |_| {}).await;
    let busy = vec!["127.0.0.1".to_owned()];
    assert!(
        tributary::store::fetch::claim_due(&db.pool, "worker-c", lease, 10, &busy)
            .await
            .expect("claim")
            .is_empty()
    );
    let claimed = tributary::store::fetch::claim_due(&db.pool, "worker-c", lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(
        claimed.iter().map(|a| a.account.id).collect::<Vec<_>>(),
        vec![other.id]
    );
}

#[tokio::test]
async fn the_service_fetches_on_its_own_and_reports_metrics() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let keys: Vec<String> = ring
        .keys()
        .iter()
        .map(|k| k.to_base64().to_string())
        .collect();
    let user = add_user(&db, "metrics").await;
    let dovecot = Dovecot::start(&[("m", "pw")]).await;
    let sent = sample_message(7, 4_000);
    dovecot.deliver("m", "1.test", &sent);
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ("m", "pw"),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    // A second account whose server refuses the password: counted as an auth error.
    add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ("m", "wrong"),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    let app =
        crate::helpers::TestApp::spawn_with(&db, &[("TRIBUTARY_MASTER_KEY", &keys.join(","))])
            .await;
    wait_until(
        Duration::from_secs(15),
        "both accounts are checked",
        || async {
            let (finished,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM fetch_runs WHERE finished_at IS NOT NULL")
                    .fetch_one(&db.pool)
                    .await
                    .expect("runs");
            finished == 2
        },
    )
    .await;
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1 == sent, "stored byte for byte");
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("body");
    for line in [
        "tributary_fetch_runs_total{outcome=\"success\"} 1".to_owned(),
        "tributary_fetch_runs_total{outcome=\"auth_error\"} 1".to_owned(),
        "tributary_messages_fetched_total 1".to_owned(),
        format!("tributary_bytes_fetched_total {}", sent.len()),
        "tributary_pop3_errors_total{class=\"auth\"} 1".to_owned(),
        "tributary_fetch_leases_held 0".to_owned(),
        "tributary_accounts_due_unclaimed 0".to_owned(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("pw"), "no credentials in metrics");
    app.stop().await;
}

/// The scheduler driven one step at a time: a step starts what the limits allow, and an
/// account handed back for its host's limit is due again as soon as the host is free
/// (it used to wait a whole lease).
#[tokio::test]
async fn each_tick_starts_what_the_per_host_limit_allows() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "ticks").await;
    let dovecot = Dovecot::start(&[("one", "pw"), ("two", "pw"), ("three", "pw")]).await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        dovecot.deliver(name, "1.test", &sample_message(1, 1_000));
        let account = add_server_account(
            &db,
            &ring,
            user.id,
            dovecot.plain_port,
            Security::PlaintextDangerous,
            (name, "pw"),
            |_| {},
        )
        .await;
        ids.push(account.id);
    }
    let settings = SchedulerSettings {
        concurrency: 8,
        per_host: 2,
        lease: lease_settings(),
        shutdown_grace: Duration::from_secs(2),
        idle_poll: Duration::from_secs(120),
    };
    let mut scheduler = Scheduler::new(Arc::new(test_fetcher(&db, &ring)), settings);

    let first = scheduler.tick().await;
    assert_eq!(first.started, 2, "two runs on one host at most");
    assert_eq!(scheduler.running(), 2);
    let second = scheduler.tick().await;
    assert_eq!(second.started, 0, "the host is still busy");
    scheduler.drain().await;
    let third = scheduler.tick().await;
    assert_eq!(third.started, 1, "the account handed back is due at once");
    scheduler.drain().await;
    for id in ids {
        assert_eq!(stored_messages(&db, id).await.len(), 1);
    }
    assert_eq!(scheduler.tick().await.started, 0, "nothing is due any more");
}
