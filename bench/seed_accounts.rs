//! Creates many accounts at once for the fetch benchmarks (one `tributary account add`
//! per account would spend minutes starting processes). Uses the same store code and
//! the same key as the service: DATABASE_URL and TRIBUTARY_MASTER_KEY from the environment.
//!
//!   cargo bench --bench seed_accounts -- OWNER_EMAIL HOST PORT SECURITY USER_PREFIX COUNT [POLL_MINUTES]
//!
//! Users are USER_PREFIX0000, USER_PREFIX0001, … with password benchpw; SECURITY is
//! tls or plain (with tls the CA comes from $BENCH_CA_FILE).

use tributary::config::Config;
use tributary::crypto::{Keys, Secret};
use tributary::store::{self, accounts};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.len() < 6 {
        return Err(
            "usage: seed_accounts OWNER_EMAIL HOST PORT SECURITY USER_PREFIX COUNT [POLL_MINUTES]"
                .into(),
        );
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let (keys, _) = Keys::load(config.master_key.clone())?;
    let ring = keys.current()?;
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let mut conn = pool.acquire().await?;
    let owner = store::users::find_by_email(&mut conn, &args[0])
        .await?
        .ok_or("no such owner")?;
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
        let new = accounts::NewAccount {
            label: format!("{} {username}", args[3]),
            color: "#3b6fd4".into(),
            email: format!("{username}@example.org"),
            host: host.clone(),
            port,
            security,
            auth_method: accounts::AuthMethod::UserPass,
            username,
            password: Secret::new("benchpw"),
            tls_ca_pem: tls_ca_pem.clone(),
            tls_pin_sha256: None,
            leave_on_server: accounts::LeavePolicy::Keep,
            delete_after_days: None,
            import_mode: accounts::ImportMode::All,
            poll_minutes,
            max_message_bytes: None,
        };
        accounts::create(&mut conn, &ring, owner.id, &new).await?;
    }
    println!("created {count} accounts");
    Ok(())
}
