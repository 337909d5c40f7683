//! Creates many accounts at once for the fetch benchmarks (one `tributary account add`
//! per account would spend minutes starting processes). Uses the same store code and
//! the same key as the service: DATABASE_URL and TRIBUTARY_MASTER_KEY from the environment.
//!
//!   cargo bench --bench seed_accounts -- OWNER_EMAIL HOST PORT SECURITY USER_PREFIX COUNT [POLL_MINUTES]
//!
//! Users are USER_PREFIX0000, USER_PREFIX0001, … with password benchpw; SECURITY is
//! tls or plain (with tls the CA comes from $BENCH_CA_FILE).

#[path = "common.rs"]
mod common;

use tributary::store::accounts;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::args();
    if args.len() < 6 {
        return Err(
            "usage: seed_accounts OWNER_EMAIL HOST PORT SECURITY USER_PREFIX COUNT [POLL_MINUTES]"
                .into(),
        );
    }
    let (pool, ring, owner_id) = common::open(&args[0]).await?;
    let mut conn = pool.acquire().await?;
    let (host, port, prefix) = (&args[1], args[2].parse::<u16>()?, &args[4]);
    let security = match args[3].as_str() {
        "tls" => accounts::Security::Tls,
        _ => accounts::Security::PlaintextDangerous,
    };
    let tls_ca_pem = match security {
        accounts::Security::Tls => Some(std::fs::read_to_string(std::env::var("BENCH_CA_FILE")?)?),
        _ => None,
    };
    let count: usize = args[5].parse()?;
    let poll_minutes = args.get(6).map(|m| m.parse::<i32>()).transpose()?;
    for i in 0..count {
        let username = format!("{prefix}{i:04}");
        let new = accounts::AccountSettings {
            label: format!("{} {username}", args[3]),
            security,
            tls_ca_pem: tls_ca_pem.clone(),
            poll_minutes,
            ..common::account(&username, host, port)
        };
        accounts::create(&mut conn, &ring, owner_id, &new, &common::password()).await?;
    }
    println!("created {count} accounts");
    Ok(())
}
