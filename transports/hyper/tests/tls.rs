//! TLS: a self-signed server on loopback is refused by default and reached
//! once its certificate is configured as a root.

#![allow(clippy::unwrap_used)]

#[path = "support/tls_server.rs"]
mod tls_server;

use mana_sync_core::{AsyncClient, Config, Error, TransportOptions};
use mana_sync_hyper::HyperTransport;
use tls_server::TlsServer;

#[tokio::test]
async fn a_self_signed_server_is_refused_by_default_and_reached_with_its_root() {
    let server = TlsServer::start();
    let config = Config::new(&server.base_url(), "tok", "c").unwrap();
    let default = mana_sync_hyper::client(config.clone()).unwrap();
    let e = default.health().await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(server.answered(), 0);

    let transport = HyperTransport::with_root_certificates(
        TransportOptions::default(),
        std::slice::from_ref(&server.certificate),
    )
    .unwrap();
    let client = AsyncClient::new(config.clone(), transport);
    assert!(client.health().await.unwrap().is_ok());
    assert_eq!(server.answered(), 1);

    let other = TlsServer::start();
    let transport = HyperTransport::with_root_certificates(
        TransportOptions::default(),
        std::slice::from_ref(&other.certificate),
    )
    .unwrap();
    assert!(AsyncClient::new(config, transport).health().await.is_err());
    assert_eq!(server.answered(), 1);
}
