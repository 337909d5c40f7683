//! The store's own floor for the ingest benchmarks (issue 4a/4b): the messages of a
//! Maildir parsed and written through exactly the statements the fetch engine uses
//! (`mail::fields::parse`, `store::messages::insert_fetched`, group commits), with no
//! POP3 at all. Whatever a fetch costs beyond this is the engine's; this much is what
//! PostgreSQL needs to store, index and durably commit the same mail.
//!
//!   cargo bench --bench store_floor -- OWNER_EMAIL MAILDIR [WRITERS (3)] [GROUP (32)] [search|nosearch]
//!
//! DATABASE_URL and TRIBUTARY_MASTER_KEY from the environment; creates one account that
//! is never fetched. `nosearch` stores an empty search text, to show the search
//! vector's share. Prints: messages, MB, parse seconds (one core), store seconds (wall).

use std::time::Instant;

use time::OffsetDateTime;
use tributary::config::Config;
use tributary::crypto::{Keys, Secret};
use tributary::mail;
use tributary::store::{self, accounts, messages};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.len() < 2 {
        return Err(
            "usage: store_floor OWNER_EMAIL MAILDIR [WRITERS] [GROUP] [search|nosearch]".into(),
        );
    }
    let writers: usize = args.get(2).map(|w| w.parse()).transpose()?.unwrap_or(3);
    let group: usize = args.get(3).map(|g| g.parse()).transpose()?.unwrap_or(32);
    let search = args.get(4).is_none_or(|s| s != "nosearch");

    let config = Config::from_env().map_err(|e| e.to_string())?;
    let (keys, _) = Keys::load(config.master_key.clone())?;
    let ring = keys.current()?;
    let pool = store::connect(&config.database_url).await?;
    let mut conn = pool.acquire().await?;
    let owner = store::users::find_by_email(&mut conn, &args[0])
        .await?
        .ok_or("no such owner")?;
    let account = accounts::create(
        &mut conn,
        &ring,
        owner.id,
        &accounts::NewAccount {
            label: "store floor".into(),
            color: "#3b6fd4".into(),
            email: "floor@example.org".into(),
            host: "127.0.0.1".into(),
            port: 9,
            security: accounts::Security::PlaintextDangerous,
            auth_method: accounts::AuthMethod::UserPass,
            username: "floor".into(),
            password: Secret::new("unused"),
            tls_ca_pem: None,
            tls_pin_sha256: None,
            leave_on_server: accounts::LeavePolicy::Keep,
            delete_after_days: None,
            import_mode: accounts::ImportMode::All,
            poll_minutes: Some(1440),
            max_message_bytes: Some(50 * 1024 * 1024),
        },
    )
    .await?;
    accounts::set_enabled(&mut conn, owner.id, account.id, false).await?;
    drop(conn);

    // Dovecot moves messages from new/ to cur/ once a session has seen them.
    let mut names = Vec::new();
    for folder in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(std::path::Path::new(&args[1]).join(folder)) else {
            continue;
        };
        for entry in entries {
            names.push(entry?.path());
        }
    }
    names.sort();
    let raws: Vec<Vec<u8>> = names.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let bytes: usize = raws.iter().map(Vec::len).sum();

    let parsing = Instant::now();
    let parsed: Vec<messages::NewMessage> = raws
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let mut fields = mail::fields::parse(&raw);
            if !search {
                fields.search_text.clear();
            }
            messages::NewMessage {
                uidl: format!("floor-{i}"),
                raw,
                fields,
            }
        })
        .collect();
    let parse_seconds = parsing.elapsed().as_secs_f64();
    let count = parsed.len();

    // Dealt round-robin to the writers, each committing every `group` messages, as the
    // engine does on a fast server.
    let mut shares: Vec<Vec<messages::NewMessage>> = (0..writers).map(|_| Vec::new()).collect();
    for (i, message) in parsed.into_iter().enumerate() {
        shares[i % writers].push(message);
    }
    let recorded_at = OffsetDateTime::now_utc();
    let storing = Instant::now();
    let mut tasks = Vec::new();
    for share in shares {
        let pool = pool.clone();
        let (user_id, account_id) = (owner.id, account.id);
        tasks.push(tokio::spawn(async move {
            for chunk in share.chunks(group) {
                let mut tx = pool.begin().await?;
                for message in chunk {
                    messages::insert_fetched(&mut tx, user_id, account_id, recorded_at, message)
                        .await?;
                }
                tx.commit().await?;
            }
            Ok::<(), store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let store_seconds = storing.elapsed().as_secs_f64();
    println!(
        "{count} {:.1} {parse_seconds:.3} {store_seconds:.3}",
        bytes as f64 / 1e6
    );
    Ok(())
}
