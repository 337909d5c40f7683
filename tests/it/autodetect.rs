//! Server autodetection against a real Dovecot and a scripted DNS server on loopback.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tributary::fetch::autodetect::{Autodetect, autodetect};
use tributary::net::Connector;
use tributary::net::discover::ProbePorts;
use tributary::net::dns::{DnsResolve, resolver as dns_resolver};
use tributary::pop3::tls::Trust;
use tributary::store::accounts::Security;

use crate::helpers::Dovecot;
use crate::helpers::fake_dns::{FakeDns, Zone};

fn pop3_autodetect(dns: &FakeDns, dovecot: &Dovecot, allow_private: bool) -> Autodetect {
    let resolver = dns_resolver(Some(dns.address)).expect("resolver");
    let connector = Connector::with_resolver(
        allow_private,
        Duration::from_secs(5),
        Arc::new(DnsResolve(resolver.clone())),
    );
    autodetect(
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
    let detect = pop3_autodetect(&dns, &dovecot, true);

    let found = detect
        .discover("srv.example.test")
        .await
        .expect("found by SRV");
    assert_eq!(found.host, "mx.example.test", "lowest priority first");
    assert_eq!(found.port, dovecot.plain_port);
    assert_eq!(found.security, Security::StartTls);
    assert!(found.source.describe().contains("SRV"));

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
    let strict = pop3_autodetect(&dns, &dovecot, false);
    assert_eq!(strict.discover("example.test").await, None);
}

/// The sending settings' search, against a real Postfix: `_submissions._tcp` before
/// `_submission._tcp`, then `smtp.` before `mail.`, implicit TLS before STARTTLS.
#[tokio::test]
async fn submission_servers_are_found_by_srv_then_by_name() {
    let dovecot = Dovecot::start(&[("ann", "ann's password")]).await;
    let postfix = crate::helpers::Postfix::start(&dovecot).await;
    let loopback = Ipv4Addr::LOCALHOST;
    let dns = FakeDns::start(Zone {
        srv: HashMap::from([
            (
                "_submissions._tcp.srv.example.test".into(),
                vec![(0, 0, postfix.implicit_tls_port, "out.example.test".into())],
            ),
            (
                "_submission._tcp.srv.example.test".into(),
                vec![(0, 0, postfix.starttls_port, "out.example.test".into())],
            ),
            // Implicit TLS deliberately not offered: STARTTLS is what is left.
            (
                "_submissions._tcp.starttls.example.test".into(),
                vec![(0, 0, 0, ".".into())],
            ),
            (
                "_submission._tcp.starttls.example.test".into(),
                vec![(0, 0, postfix.starttls_port, "out.example.test".into())],
            ),
        ]),
        a: HashMap::from([
            ("out.example.test".into(), loopback),
            ("mail.example.test".into(), loopback),
        ]),
    })
    .await;
    let resolver = dns_resolver(Some(dns.address)).expect("resolver");
    let connector = |allow_private| {
        Connector::with_resolver(
            allow_private,
            Duration::from_secs(5),
            Arc::new(DnsResolve(resolver.clone())),
        )
    };
    let detect = |allow_private| {
        tributary::send::autodetect::autodetect(
            Some(resolver.clone()),
            connector(allow_private),
            &Trust::CustomCa(postfix.certs.ca_pem.clone()),
        )
        .expect("autodetect")
        .with_probe_ports(ProbePorts {
            tls: postfix.implicit_tls_port,
            starttls: postfix.starttls_port,
        })
    };
    let found = detect(true)
        .discover("srv.example.test")
        .await
        .expect("found by SRV");
    assert_eq!(
        (found.host.as_str(), found.port, found.security),
        ("out.example.test", postfix.implicit_tls_port, Security::Tls)
    );
    assert!(
        found.source.describe().contains("SRV"),
        "{:?}",
        found.source
    );

    let starttls = detect(true)
        .discover("starttls.example.test")
        .await
        .expect("found by SRV");
    assert_eq!(
        (starttls.port, starttls.security),
        (postfix.starttls_port, Security::StartTls)
    );

    // No SRV: smtp. does not exist, mail. answers on the implicit-TLS port first.
    let guessed = detect(true)
        .discover("example.test")
        .await
        .expect("found by name");
    assert_eq!(
        (guessed.host.as_str(), guessed.port, guessed.security),
        (
            "mail.example.test",
            postfix.implicit_tls_port,
            Security::Tls
        )
    );
    assert!(guessed.source.describe().contains("usual server names"));
    assert_eq!(detect(true).discover("nothing.example.test").await, None);

    // Loopback is private: without permission nothing is probed, and nothing found.
    assert_eq!(detect(false).discover("example.test").await, None);
    assert!(postfix.delivered().is_empty(), "a probe sends nothing");
}
