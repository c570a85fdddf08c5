//! The verified caller of a use case, with where the request came from (for the audit log).

use crate::error::{AppError, AppResult};
use handover_domain::policy::{self, Decision, ListScope};
use handover_domain::{Action, Caller, OrgId, Relation};
use std::net::IpAddr;

/// Who asks, as the interface verified them (an access token, a session cookie), and the
/// request's id and client address. Every use case takes one; it derefs to the [`Caller`].
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    pub meta: RequestMeta,
}

/// Who made a request, for the access log: the interface fills it in once it has verified the
/// caller (the log line is written after the answer, outside the handler). Ids only, never a
/// name or an address.
#[derive(Debug, Clone, Default)]
pub struct CallerNote(std::sync::Arc<std::sync::OnceLock<(uuid::Uuid, uuid::Uuid)>>);

impl CallerNote {
    pub fn note(&self, caller: &Caller) {
        let _ = self.0.set((caller.user_id.0, caller.org_id.0));
    }

    /// (user id, organisation id) of the caller, if the request had one.
    pub fn get(&self) -> Option<(uuid::Uuid, uuid::Uuid)> {
        self.0.get().copied()
    }
}

/// Request id and client address, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub client_addr: Option<IpAddr>,
}

impl RequestMeta {
    pub fn client(&self) -> Option<String> {
        self.client_addr.map(|a| a.to_string())
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry (`forwarded_for`: the header's values, in order) that is
/// not itself a trusted proxy. A client-supplied header is never believed when the peer is not a
/// trusted proxy. Every interface derives the address of its audit rows with this.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded_for
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

impl std::ops::Deref for Actor {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

/// Proof that the access decision for an action on a target was taken and allowed. Only
/// [`Actor::check`] makes one, so a write that takes a `Granted` cannot be reached without it.
#[derive(Debug, Clone, Copy)]
pub struct Granted {
    action: Action,
    /// The relation the decision rested on.
    relation: Relation,
}

impl Granted {
    pub fn action(&self) -> Action {
        self.action
    }

    pub fn relation(&self) -> Relation {
        self.relation
    }
}

impl Actor {
    /// The role may perform `action` at all (403 otherwise).
    pub fn require(&self, action: Action) -> AppResult<()> {
        match policy::role_may(self.caller.principal(), action) {
            Decision::Allow => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The role may perform `action` on a target with this relation (403 or 404 otherwise).
    pub fn check(&self, action: Action, relation: Relation) -> AppResult<Granted> {
        match policy::decide(self.caller.principal(), action, relation) {
            Decision::Allow => Ok(Granted { action, relation }),
            Decision::Forbidden => Err(AppError::Forbidden),
            Decision::NotFound => Err(AppError::NotFound),
        }
    }

    /// Relation of a target owned by `org` to the caller.
    pub fn relation_to_org(&self, org: OrgId) -> Relation {
        policy::organisation_relation(&self.caller, org)
    }

    pub fn list_scope(&self, action: Action) -> ListScope {
        policy::list_scope(self.caller.principal(), action)
    }

    pub fn client(&self) -> Option<String> {
        self.meta.client()
    }

    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }
}
