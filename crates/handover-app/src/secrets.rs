//! Opaque secrets: refresh tokens, password-setup tokens. Only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new opaque token (256 random bits, URL-safe) and the SHA-256 to store.
pub fn new_opaque_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_opaque(&token);
    (token, hash)
}

pub fn hash_opaque(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
