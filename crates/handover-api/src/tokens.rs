//! Access tokens (JWT, RFC 8725 / RFC 9068) and opaque refresh tokens.
//!
//! One pinned algorithm (HS256). Every token names its key (`kid`) so keys can rotate: the active
//! key signs, retired keys still verify until their grace period ends.

use crate::error::ApiError;
use handover_domain::UserId;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// RFC 9068 media type of access tokens; a refresh token or any other JWT is refused.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Shortest secret accepted (bytes): HS256 needs at least the hash size.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The session (refresh-token chain) this token belongs to; logout revokes it.
    pub sid: Uuid,
    pub iat: u64,
    pub exp: u64,
    pub jti: Uuid,
}

/// A signing secret with its key id.
#[derive(Clone)]
pub struct KeySpec {
    pub kid: String,
    pub secret: Vec<u8>,
    /// For retired keys: verification stops at this time (UNIX seconds). `None` for the active key.
    pub verify_until: Option<u64>,
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySpec")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

struct VerifyKey {
    key: DecodingKey,
    verify_until: Option<u64>,
}

pub struct TokenKeys {
    active_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, VerifyKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    /// Longest lifetime (`exp` - `iat`) accepted: the configured access-token TTL. A token that
    /// claims to live longer was not issued by this configuration.
    max_lifetime: u64,
}

/// Until [`TokenKeys::with_max_lifetime`] says otherwise: the longest TTL the settings allow.
const DEFAULT_MAX_LIFETIME_SECS: u64 = 3600;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenKeys {
    pub fn new(
        active: KeySpec,
        retired: Vec<KeySpec>,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, String> {
        for k in std::iter::once(&active).chain(&retired) {
            if k.secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "signing key {:?} is shorter than {MIN_SECRET_BYTES} bytes",
                    k.kid
                ));
            }
            if k.kid.is_empty() || k.kid.len() > 64 {
                return Err("a key id must be 1 to 64 characters".into());
            }
        }
        let mut verifying = HashMap::new();
        for k in std::iter::once(&active).chain(&retired) {
            verifying.insert(
                k.kid.clone(),
                VerifyKey {
                    key: DecodingKey::from_secret(&k.secret),
                    verify_until: k.verify_until,
                },
            );
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        // A token that is not yet valid is refused (RFC 7519 4.1.5); we never set `nbf`, so one
        // that carries it was not made here.
        validation.validate_nbf = true;
        Ok(Self {
            active_kid: active.kid.clone(),
            signing: EncodingKey::from_secret(&active.secret),
            verifying,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            max_lifetime: DEFAULT_MAX_LIFETIME_SECS,
        })
    }

    /// Refuse tokens whose `exp` - `iat` exceeds `ttl` (the access-token TTL in force).
    pub fn with_max_lifetime(mut self, ttl: Duration) -> Self {
        self.max_lifetime = ttl.as_secs();
        self
    }

    pub fn issue(&self, user: UserId, session: Uuid, ttl: Duration) -> Result<String, ApiError> {
        let now = now_secs();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.0,
            sid: session,
            iat: now,
            exp: now + ttl.as_secs(),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(ACCESS_TOKEN_TYP.into());
        header.kid = Some(self.active_kid.clone());
        encode(&header, &claims, &self.signing).map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm, `typ`, `kid`, `exp`, `nbf`, `iat`, `iss` and `aud`; refuses
    /// a `crit` header (RFC 7515 4.1.11: we understand no extension, so none may be critical)
    /// and a lifetime longer than the configured TTL.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = decode_header(token).ok()?;
        if header.alg != ALGORITHM
            || header.typ.as_deref() != Some(ACCESS_TOKEN_TYP)
            || header.crit.is_some()
        {
            return None;
        }
        let vk = self.verifying.get(header.kid.as_deref()?)?;
        if vk.verify_until.is_some_and(|until| now_secs() > until) {
            return None;
        }
        let claims = decode::<Claims>(token, &vk.key, &self.validation)
            .ok()?
            .claims;
        // Issued in the future (beyond the clock leeway), or living longer than we issue: not
        // one of ours.
        let lifetime_ok = claims
            .exp
            .checked_sub(claims.iat)
            .is_some_and(|l| l <= self.max_lifetime);
        (claims.iat <= now_secs() + self.validation.leeway && lifetime_ok).then_some(claims)
    }
}

pub use handover_app::secrets::{hash_opaque, new_opaque_token};

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(retired: Vec<KeySpec>) -> TokenKeys {
        let active = KeySpec {
            kid: "k2".into(),
            secret: vec![7; 32],
            verify_until: None,
        };
        match TokenKeys::new(active, retired, "iss", "aud") {
            Ok(k) => k,
            Err(e) => unreachable!("{e}"),
        }
    }

    #[test]
    fn round_trip_and_rotation() {
        let old = KeySpec {
            kid: "k1".into(),
            secret: vec![1; 32],
            verify_until: Some(now_secs() + 60),
        };
        let gone = KeySpec {
            kid: "k0".into(),
            secret: vec![2; 32],
            verify_until: Some(now_secs() - 1),
        };
        let k = keys(vec![old.clone(), gone.clone()]);
        let t = k
            .issue(UserId::new(), Uuid::new_v4(), Duration::from_secs(60))
            .unwrap_or_default();
        assert!(k.verify(&t).is_some());
        // A token signed by the still-valid retired key verifies; by the expired one, not.
        let by_old = keys(vec![]);
        let signer = |spec: KeySpec| {
            TokenKeys::new(spec, vec![], "iss", "aud")
                .ok()
                .and_then(|s| {
                    s.issue(UserId::new(), Uuid::new_v4(), Duration::from_secs(60))
                        .ok()
                })
                .unwrap_or_default()
        };
        assert!(k.verify(&signer(old)).is_some());
        assert!(k.verify(&signer(gone)).is_none());
        assert!(
            by_old
                .verify(&signer(KeySpec {
                    kid: "zz".into(),
                    secret: vec![9; 32],
                    verify_until: None
                }))
                .is_none()
        );
    }

    fn sign(header: Header, claims: &Claims) -> String {
        encode(&header, claims, &EncodingKey::from_secret(&[7; 32])).unwrap_or_default()
    }

    fn claims(lifetime: u64) -> Claims {
        let now = now_secs();
        Claims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat: now,
            exp: now + lifetime,
            jti: Uuid::new_v4(),
        }
    }

    fn header() -> Header {
        let mut h = Header::new(ALGORITHM);
        h.typ = Some(ACCESS_TOKEN_TYP.into());
        h.kid = Some("k2".into());
        h
    }

    #[test]
    fn tokens_living_longer_than_the_ttl_are_refused() {
        let k = keys(vec![]).with_max_lifetime(Duration::from_secs(900));
        assert!(k.verify(&sign(header(), &claims(900))).is_some());
        assert!(k.verify(&sign(header(), &claims(901))).is_none());
        assert!(
            k.verify(&sign(header(), &claims(10 * 365 * 86400)))
                .is_none()
        );
        // exp before iat
        let mut c = claims(60);
        c.exp = c.iat - 1;
        assert!(k.verify(&sign(header(), &c)).is_none());
    }

    #[test]
    fn a_crit_header_is_refused() {
        let k = keys(vec![]);
        assert!(k.verify(&sign(header(), &claims(60))).is_some());
        let mut h = header();
        h.crit = Some(vec!["exp".into()]);
        assert!(k.verify(&sign(h, &claims(60))).is_none());
        let mut h = header();
        h.crit = Some(vec![]);
        assert!(k.verify(&sign(h, &claims(60))).is_none());
    }

    #[test]
    fn short_secrets_are_refused() {
        let active = KeySpec {
            kid: "k".into(),
            secret: vec![1; 16],
            verify_until: None,
        };
        assert!(TokenKeys::new(active, vec![], "i", "a").is_err());
    }

    #[test]
    fn opaque_tokens_hash_stably() {
        let (t, h) = new_opaque_token();
        assert_eq!(hash_opaque(&t), h);
        assert_eq!(t.len(), 43);
    }
}
