//! The store's own floor for the ingest benchmarks (issue 4a/4b): the messages of a
//! Maildir parsed and written through exactly the statements the fetch engine uses
//! (`mail::fields::parse`, `store::messages::insert`, group commits), with no
//! POP3 at all. Whatever a fetch costs beyond this is the engine's; this much is what
//! PostgreSQL needs to store, index and durably commit the same mail.
//!
//!   cargo bench --bench store_floor -- OWNER_EMAIL MAILDIR [WRITERS (3)] [GROUP (32)] [search|nosearch]
//!
//! DATABASE_URL and TRIBUTARY_MASTER_KEY from the environment; creates one account that
//! is never fetched. `nosearch` stores an empty search text, to show the search
//! vector's share. Prints: messages, MB, parse seconds (one core), store seconds (wall).

use std::time::Instant;

#[path = "common.rs"]
mod common;

use time::OffsetDateTime;
use tributary::mail;
use tributary::store::{self, accounts, messages};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::args();
    if args.len() < 2 {
        return Err(
            "usage: store_floor OWNER_EMAIL MAILDIR [WRITERS] [GROUP] [search|nosearch]".into(),
        );
    }
    let writers: usize = args.get(2).map(|w| w.parse()).transpose()?.unwrap_or(3);
    let group: usize = args.get(3).map(|g| g.parse()).transpose()?.unwrap_or(32);
    let search = args.get(4).is_none_or(|s| s != "nosearch");

    let (pool, ring, owner_id) = common::open(&args[0]).await?;
    let mut conn = pool.acquire().await?;
    let account = accounts::create(
        &mut conn,
        &ring,
        owner_id,
        &accounts::AccountSettings {
            label: "store floor".into(),
            poll_minutes: Some(1440),
            ..common::account("floor", "127.0.0.1", 9)
        },
        &common::password(),
    )
    .await?;
    accounts::set_enabled(&mut conn, owner_id, account.id, false).await?;
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
        let (user_id, account_id) = (owner_id, account.id);
        tasks.push(tokio::spawn(async move {
            // One statement per group, as the engine writes a group.
            for chunk in share.chunks(group) {
                let mut conn = pool.acquire().await?;
                messages::insert_fetched_group(&mut conn, user_id, account_id, recorded_at, chunk)
                    .await?;
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
