//! Server autodetection against a real Dovecot and a scripted DNS server on loopback.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tributary::fetch::Connector;
use tributary::fetch::autodetect::{Autodetect, DnsResolve, ProbePorts, dns_resolver};
use tributary::pop3::tls::Trust;
use tributary::store::accounts::Security;

use crate::helpers::Dovecot;
use crate::helpers::fake_dns::{FakeDns, Zone};

fn autodetect(dns: &FakeDns, dovecot: &Dovecot, allow_private: bool) -> Autodetect {
    let resolver = dns_resolver(Some(dns.address)).expect("resolver");
    let connector = Connector::with_resolver(
        allow_private,
        Duration::from_secs(5),
        Arc::new(DnsResolve(resolver.clone())),
    );
    Autodetect::new(
        Some(resolver),
        connector,
        &Trust::CustomCa(dovecot.certs.ca_pem.clone()),
    )
    .expect("autodetect")
    .with_probe_ports(ProbePorts {
        tls: dovecot.tls_port,
        starttls: dovecot.plain_port,
    })
}

#[tokio::test]
async fn srv_records_then_the_usual_names_are_tried() {
    let dovecot = Dovecot::start(&[("ann", "ann's password")]).await;
    let loopback = Ipv4Addr::LOCALHOST;
    let dns = FakeDns::start(Zone {
        srv: HashMap::from([
            // srv.example.test: implicit TLS "not offered", STARTTLS announced.
            (
                "_pop3s._tcp.srv.example.test".into(),
                vec![(0, 0, 0, ".".into())],
            ),
            (
                "_pop3._tcp.srv.example.test".into(),
                vec![
                    (20, 0, dovecot.plain_port, "backup.example.test".into()),
                    (10, 0, dovecot.plain_port, "mx.example.test".into()),
                ],
            ),
        ]),
        a: HashMap::from([
            ("mx.example.test".into(), loopback),
            ("backup.example.test".into(), loopback),
            ("pop3.example.test".into(), loopback),
            ("mail.example.test".into(), loopback),
        ]),
    })
    .await;
    let detect = autodetect(&dns, &dovecot, true);

    let found = detect
        .discover("srv.example.test")
        .await
        .expect("found by SRV");
    assert_eq!(found.host, "mx.example.test", "lowest priority first");
    assert_eq!(found.port, dovecot.plain_port);
    assert_eq!(found.security, Security::StartTls);
    assert!(found.source.contains("SRV"));

    // No SRV (the test certificate covers *.example.test): pop. does not exist, pop3.
    // answers, on the TLS port first.
    let guessed = detect
        .discover("example.test")
        .await
        .expect("found by probing");
    assert_eq!(guessed.host, "pop3.example.test");
    assert_eq!(guessed.port, dovecot.tls_port);
    assert_eq!(guessed.security, Security::Tls);

    assert_eq!(detect.discover("nothing.example.test").await, None);
    assert_eq!(detect.discover("bad domain!").await, None);

    // Without permission for private addresses, loopback is never probed.
    let strict = autodetect(&dns, &dovecot, false);
    assert_eq!(strict.discover("example.test").await, None);
}
