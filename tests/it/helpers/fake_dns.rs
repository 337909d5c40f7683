//! A tiny authoritative DNS server on a loopback UDP port, for server autodetection:
//! answers the SRV and A records a test gives and NXDOMAIN for everything else, so no
//! lookup ever leaves the machine.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Debug, Default, Clone)]
pub struct Zone {
    /// `_pop3s._tcp.example.test` → (priority, weight, port, target); target "." = not offered.
    pub srv: HashMap<String, Vec<(u16, u16, u16, String)>>,
    pub a: HashMap<String, Ipv4Addr>,
}

pub struct FakeDns {
    pub address: SocketAddr,
    /// Queries received so far.
    pub queries: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

fn key(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

impl FakeDns {
    pub async fn start(zone: Zone) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind dns");
        let address = socket.local_addr().expect("address");
        let zone = Arc::new(zone);
        let queries = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&queries);
        let task = tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let Ok(query) = Message::from_vec(&buffer[..len]) else {
                    continue;
                };
                let mut response = Message::response(query.metadata.id, query.metadata.op_code);
                response.metadata.message_type = MessageType::Response;
                response.metadata.authoritative = true;
                response.metadata.recursion_desired = query.metadata.recursion_desired;
                response.metadata.recursion_available = true;
                let mut found = false;
                for question in &query.queries {
                    response.add_query(question.clone());
                    let name = key(question.name());
                    match question.query_type() {
                        RecordType::SRV => {
                            for (priority, weight, port, target) in
                                zone.srv.get(&name).into_iter().flatten()
                            {
                                found = true;
                                let target =
                                    Name::from_str(&format!("{}.", target.trim_end_matches('.')))
                                        .expect("target");
                                response.add_answer(Record::from_rdata(
                                    question.name().clone(),
                                    60,
                                    RData::SRV(SRV::new(*priority, *weight, *port, target)),
                                ));
                            }
                        }
                        RecordType::A => {
                            if let Some(ip) = zone.a.get(&name) {
                                found = true;
                                response.add_answer(Record::from_rdata(
                                    question.name().clone(),
                                    60,
                                    RData::A(A(*ip)),
                                ));
                            }
                        }
                        _ => {
                            found |= zone.a.contains_key(&name);
                        }
                    }
                }
                if !found {
                    response.metadata.response_code = ResponseCode::NXDomain;
                }
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        Self {
            address,
            queries,
            task,
        }
    }
}

impl FakeDns {
    /// `example.test` announcing its POP3 server `pop.example.test` (loopback) on `port`
    /// with implicit TLS, as RFC 6186 describes.
    pub async fn announcing_pop3s(port: u16) -> Self {
        Self::start(Zone {
            srv: HashMap::from([(
                "_pop3s._tcp.example.test".into(),
                vec![(0, 0, port, "pop.example.test".into())],
            )]),
            a: HashMap::from([("pop.example.test".into(), Ipv4Addr::LOCALHOST)]),
        })
        .await
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}
