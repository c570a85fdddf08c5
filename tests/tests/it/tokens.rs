//! Access tokens under key rotation, and forgeries beyond those in `auth.rs` (RFC 8725): retired
//! keys verify only during their grace period, unknown `kid`s are refused, the algorithm is
//! pinned whichever key the `kid` names, and every malformed serialisation is a 401 problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use handover_server::settings::{Settings, generate_key_spec};
use handover_tests::{DEMO_PASSWORD, TestApp, spawn_app_with, who};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

struct Key {
    kid: String,
    secret: Vec<u8>,
    spec: String,
}

fn new_key() -> Key {
    let spec = generate_key_spec();
    let (kid, secret) = spec.split_once(':').unwrap();
    Key {
        kid: kid.to_owned(),
        secret: STANDARD.decode(secret).unwrap(),
        spec,
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A compact JWS with any header: signed with HMAC-`alg` over exactly these bytes, so the
/// header may name any algorithm (e.g. RS256 signed with the HMAC secret: key confusion).
fn jws(header: &Value, claims: &Value, secret: &[u8], mac: Algorithm) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let sig = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(secret),
        mac,
    )
    .unwrap();
    format!("{signing_input}.{sig}")
}

fn header(alg: &str, kid: Option<&str>) -> Value {
    let mut h = json!({"alg": alg, "typ": "at+jwt"});
    if let Some(k) = kid {
        h["kid"] = json!(k);
    }
    h
}

/// Claims of a real token (a live session), decoded without verification.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    let h = token.split('.').next().unwrap();
    let h: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    h["kid"].as_str().unwrap().to_owned()
}

async fn me(base: &str, client: &reqwest::Client, token: &str) -> u16 {
    client
        .get(format!("{base}/api/v1/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn refused(client: &reqwest::Client, base: &str, name: &str, token: &str) {
    let r = client
        .get(format!("{base}/api/v1/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "{name} was not refused");
    assert_eq!(
        r.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{name}"
    );
    assert!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "{name}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["type"], "urn:handover:problem:unauthenticated",
        "{name}"
    );
}

/// Another instance of the service on the app's database with other settings, as after a
/// deployment that rotated keys. Returns its base URL and the sender that stops it.
async fn instance(
    app: &TestApp,
    tweak: impl FnOnce(&mut Settings),
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut settings = Settings {
        shutdown_grace_secs: 1,
        ..app.settings.clone()
    };
    tweak(&mut settings);
    let state = handover_server::app_state(&settings, app.pool.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = handover_server::serve(listener, state, &settings, async move {
            let _ = rx.await;
        })
        .await;
    });
    (base, tx)
}

#[tokio::test]
async fn rotation_retired_keys_verify_only_during_their_grace() {
    let old = new_key();
    let gone = new_key();
    let current = new_key();
    let stranger = new_key();
    let current_spec = current.spec.clone();
    let app = spawn_app_with(move |s| s.jwt_key = Some(current_spec)).await;
    let client = &app.client;
    // An instance with the retired keys, started now so the grace period is short and real.
    let grace_end = now() + 4;
    let (base, _stop) = instance(&app, |s| {
        s.jwt_retired_keys = Some(format!(
            "{}:{}, {}:{}",
            old.spec,
            grace_end,
            gone.spec,
            now() - 1
        ));
    })
    .await;
    let base = base.as_str();

    // A token from the app (signed with the current key) works.
    let session = app.login(who::KRS_STAFF).await;
    assert_eq!(kid_of(&session.access), current.kid);
    assert_eq!(me(base, client, &session.access).await, 200);
    let claims = claims_of(&session.access);

    // The same claims signed with each key, as a server still on that key would have.
    let sign_with = |k: &Key| {
        jws(
            &header("HS256", Some(&k.kid)),
            &claims,
            &k.secret,
            Algorithm::HS256,
        )
    };
    assert_eq!(
        me(base, client, &sign_with(&current)).await,
        200,
        "control: current key"
    );
    assert_eq!(
        me(base, client, &sign_with(&old)).await,
        200,
        "a retired key within its grace period verifies"
    );
    let mut variants = 0;
    let mut refuse = async |name: &str, token: String| {
        refused(client, base, name, &token).await;
        variants += 1;
    };
    refuse("retired key after its grace period", sign_with(&gone)).await;
    refuse("unknown kid (a key never configured)", sign_with(&stranger)).await;
    refuse(
        "known kid, signed with another key",
        jws(
            &header("HS256", Some(&old.kid)),
            &claims,
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    refuse(
        "missing kid, signed with the current key",
        jws(
            &header("HS256", None),
            &claims,
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    refuse(
        "empty kid",
        jws(
            &header("HS256", Some("")),
            &claims,
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    refuse(
        "kid as a number",
        jws(
            &json!({"alg": "HS256", "typ": "at+jwt", "kid": 1}),
            &claims,
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    refuse(
        "kid with path traversal",
        jws(
            &header("HS256", Some("../../etc/passwd")),
            &claims,
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    // The retired key's kid, but another algorithm: pinned to HS256 for every key.
    for (alg, mac) in [
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
        ("RS256", Algorithm::HS256),
        ("ES256", Algorithm::HS256),
        ("PS256", Algorithm::HS256),
        ("EdDSA", Algorithm::HS256),
        ("hs256", Algorithm::HS256),
    ] {
        refuse(
            &format!("retired kid with alg {alg}"),
            jws(&header(alg, Some(&old.kid)), &claims, &old.secret, mac),
        )
        .await;
        refuse(
            &format!("current kid with alg {alg}"),
            jws(
                &header(alg, Some(&current.kid)),
                &claims,
                &current.secret,
                mac,
            ),
        )
        .await;
    }
    for key in [&old, &current] {
        let h = b64(&header("none", Some(&key.kid)));
        refuse(
            "alg none, empty signature",
            format!("{h}.{}.", b64(&claims)),
        )
        .await;
        refuse(
            "alg none, no signature part",
            format!("{h}.{}", b64(&claims)),
        )
        .await;
        let h = b64(&header("None", Some(&key.kid)));
        refuse("alg None", format!("{h}.{}.", b64(&claims))).await;
    }
    refuse(
        "jwk embedded in the header",
        jws(
            &json!({"alg": "HS256", "typ": "at+jwt", "kid": current.kid,
                    "jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode([1u8; 32])}}),
            &claims,
            &[1u8; 32],
            Algorithm::HS256,
        ),
    )
    .await;
    refuse(
        "jku pointing elsewhere",
        jws(
            &json!({"alg": "HS256", "typ": "at+jwt", "kid": "evil",
                    "jku": "https://evil.example/keys"}),
            &claims,
            &[1u8; 32],
            Algorithm::HS256,
        ),
    )
    .await;

    // Claims, with the current key.
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        f(&mut c);
        jws(
            &header("HS256", Some(&current.kid)),
            &c,
            &current.secret,
            Algorithm::HS256,
        )
    };
    let with_header = |h: Value| jws(&h, &claims, &current.secret, Algorithm::HS256);
    refuse(
        "typ JWT",
        with_header(json!({"alg": "HS256", "typ": "JWT", "kid": current.kid})),
    )
    .await;
    refuse(
        "typ refresh",
        with_header(json!({"alg": "HS256", "typ": "rt+jwt", "kid": current.kid})),
    )
    .await;
    refuse(
        "typ in other case",
        with_header(json!({"alg": "HS256", "typ": "AT+JWT", "kid": current.kid})),
    )
    .await;
    refuse("wrong issuer", with(&|c| c["iss"] = json!("someone-else"))).await;
    refuse("wrong audience", with(&|c| c["aud"] = json!("other-api"))).await;
    refuse(
        "audience list without ours",
        with(&|c| c["aud"] = json!(["other-api"])),
    )
    .await;
    refuse(
        "no issuer",
        with(&|c| {
            c.as_object_mut().unwrap().remove("iss");
        }),
    )
    .await;
    refuse(
        "no audience",
        with(&|c| {
            c.as_object_mut().unwrap().remove("aud");
        }),
    )
    .await;
    refuse(
        "no sub",
        with(&|c| {
            c.as_object_mut().unwrap().remove("sub");
        }),
    )
    .await;
    refuse(
        "no iat",
        with(&|c| {
            c.as_object_mut().unwrap().remove("iat");
        }),
    )
    .await;
    refuse(
        "expired beyond the leeway",
        with(&|c| {
            c["exp"] = json!(now() - 120);
            c["iat"] = json!(now() - 1000);
        }),
    )
    .await;
    refuse("exp as a string", with(&|c| c["exp"] = json!("9999999999"))).await;
    refuse("exp negative", with(&|c| c["exp"] = json!(-1))).await;
    refuse(
        "nbf in the future",
        with(&|c| c["nbf"] = json!(now() + 3600)),
    )
    .await;
    refuse(
        "iat in the future",
        with(&|c| c["iat"] = json!(now() + 3600)),
    )
    .await;
    refuse("sub not a uuid", with(&|c| c["sub"] = json!("admin"))).await;
    refuse(
        "sub of another user, same session",
        with(&|c| c["sub"] = json!(uuid::Uuid::new_v4())),
    )
    .await;
    refuse("sid not a uuid", with(&|c| c["sid"] = json!(null))).await;

    // Serialisations.
    let good = sign_with(&current);
    let parts: Vec<&str> = good.split('.').collect();
    let mut tampered = claims.clone();
    tampered["exp"] = json!(now() + 86_400 * 365);
    refuse(
        "tampered payload (longer life), signature kept",
        format!("{}.{}.{}", parts[0], b64(&tampered), parts[2]),
    )
    .await;
    refuse("signature stripped", format!("{}.{}.", parts[0], parts[1])).await;
    refuse(
        "signature part missing",
        format!("{}.{}", parts[0], parts[1]),
    )
    .await;
    refuse(
        "signature of another token",
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            session.access.split('.').nth(2).unwrap()
        ),
    )
    .await;
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    refuse(
        "one signature bit flipped",
        format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(&sig)),
    )
    .await;
    refuse(
        "signature truncated",
        format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
    )
    .await;
    refuse(
        "padded header",
        format!("{}==.{}.{}", parts[0], parts[1], parts[2]),
    )
    .await;
    refuse(
        "padded payload",
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE.encode(claims.to_string()),
            parts[2]
        ),
    )
    .await;
    refuse(
        "standard base64 alphabet",
        format!(
            "{}.{}.{}",
            STANDARD.encode(header("HS256", Some(&current.kid)).to_string()),
            STANDARD.encode(claims.to_string()),
            parts[2]
        ),
    )
    .await;
    refuse("four parts", format!("{good}.{}", parts[2])).await;
    refuse("leading dot", format!(".{good}")).await;
    refuse(
        "whitespace inside",
        format!("{} .{}.{}", parts[0], parts[1], parts[2]),
    )
    .await;
    refuse(
        "JWS JSON serialisation",
        json!({"protected": parts[0], "payload": parts[1], "signature": parts[2]}).to_string(),
    )
    .await;
    refuse(
        "JWS JSON serialisation, base64",
        URL_SAFE_NO_PAD.encode(
            json!({"protected": parts[0], "payload": parts[1], "signature": parts[2]}).to_string(),
        ),
    )
    .await;
    refuse(
        "nested JWT as payload",
        jws(
            &json!({"alg": "HS256", "typ": "at+jwt", "kid": current.kid, "cty": "JWT"}),
            &json!(good),
            &current.secret,
            Algorithm::HS256,
        ),
    )
    .await;
    refuse("payload not JSON", {
        let input = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode("not json"));
        let s = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(&current.secret),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{input}.{s}")
    })
    .await;
    refuse(
        "the refresh token as an access token",
        session.refresh.clone(),
    )
    .await;

    // When the grace period ends, the retired key's token stops working.
    let by_old = sign_with(&old);
    let wait = grace_end.saturating_sub(now()) + 2;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    refused(
        client,
        base,
        "retired key, once its grace period ended",
        &by_old,
    )
    .await;
    variants += 1;
    assert_eq!(
        me(base, client, &sign_with(&current)).await,
        200,
        "control: the current key still works"
    );
    handover_tests::figure!("forged or retired token variants refused: {variants}");
    assert!(variants >= 60, "{variants}");
}

#[tokio::test]
async fn refresh_tokens_survive_a_key_rotation() {
    let old = new_key();
    let new = new_key();
    let old_spec = old.spec.clone();
    let app = spawn_app_with(move |s| s.jwt_key = Some(old_spec)).await;
    // Logged in before the rotation: access token by the old key.
    let before = app.login(who::KOMMUNE_KRS_STAFF).await;
    assert_eq!(kid_of(&before.access), old.kid);

    // The deployment after the rotation: new key active, old key retired for a while.
    let (rotated, stop_rotated) = instance(&app, |s| {
        s.jwt_key = Some(new.spec.clone());
        s.jwt_retired_keys = Some(format!("{}:{}", old.spec, now() + 3600));
    })
    .await;
    // And later, once the grace period is over (old key still listed, but expired).
    let (later, stop_later) = instance(&app, |s| {
        s.jwt_key = Some(new.spec.clone());
        s.jwt_retired_keys = Some(format!("{}:{}", old.spec, now() - 1));
    })
    .await;
    let client = &app.client;

    assert_eq!(
        me(&rotated, client, &before.access).await,
        200,
        "old token within the grace"
    );
    assert_eq!(
        me(&later, client, &before.access).await,
        401,
        "old token after the grace"
    );
    // The refresh token is opaque and kept in the database: it works across the rotation and
    // yields an access token signed with the new key.
    let r = client
        .post(format!("{rotated}/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": before.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&access), new.kid);
    assert_eq!(me(&rotated, client, &access).await, 200);
    assert_eq!(me(&later, client, &access).await, 200);
    // The pre-rotation instance does not know the new key: tokens are not accepted backwards.
    assert_eq!(me(&app.base, client, &access).await, 401);
    // The used refresh token cannot be replayed against the new deployment either.
    let r = client
        .post(format!("{later}/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": before.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Reuse revoked the whole session, including the new tokens.
    assert_eq!(me(&later, client, &access).await, 401);
    let r = client
        .post(format!("{later}/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A fresh login on the new deployment works.
    let r = client
        .post(format!("{later}/api/v1/auth/login"))
        .json(&json!({"email": who::KOMMUNE_KRS_STAFF, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = stop_rotated.send(());
    let _ = stop_later.send(());
}
