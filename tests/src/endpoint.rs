//! [`Endpoint`]: which of the server's endpoints a request is for, so that a
//! fault can be aimed at one ([`crate::MemoryServer::fail_next_requests_to`]).

/// One of the endpoints of the in-memory server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /sync/{appId}`.
    Push,
    /// `GET /sync/{appId}/pull`.
    Pull,
    /// `GET /sync/{appId}/stream`.
    Stream,
    /// The auth service's vault: `GET /api/v1/me/encryption-vault/key`.
    Vault,
    /// The auth service's organisation list: `GET /api/auth/organization/list`.
    Spaces,
    /// `GET /health`.
    Health,
    /// `GET /metrics`.
    Metrics,
}
