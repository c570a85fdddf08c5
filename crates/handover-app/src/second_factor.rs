//! A second factor for local passwords: a TOTP authenticator (RFC 6238, `totp-rs`) with
//! one-time recovery codes. Setting one up, replacing the recovery codes and removing it are
//! the owner's own (they need the current password or a code); the login's second step is in
//! [`crate::auth`].

use crate::App;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::secrets::hash_opaque;
use handover_db::{second_factor as db, sessions, throttle, users};
use handover_domain::password::MAX_PASSWORD_CHARS;
use handover_domain::{Action, UserId};
use rand::Rng;
use totp_rs::{Algorithm, TOTP};

/// Six digits, a 30-second step and one step of clock skew either way: what every
/// authenticator app does by default, and RFC 6238's recommendation.
const DIGITS: usize = 6;
const STEP_SECS: u64 = 30;
const SKEW_STEPS: u64 = 1;
/// 160 bits, RFC 4226's recommended secret length.
const SECRET_BYTES: usize = 20;
/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;
/// Without 0/o, 1/l/i: a code copied from paper is read back right. 31 symbols x 10 = 49.5 bits.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_LEN: usize = 10;
/// The longest code input looked at (a recovery code with separators and spaces).
pub const MAX_CODE_CHARS: usize = 32;

/// What the owner sees of their second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub totp: bool,
    pub recovery_codes_left: i64,
    /// The user may not be without one (administrators).
    pub required: bool,
}

/// An authenticator being set up: the key to give the app (as a QR code of the `otpauth://`
/// URI, or typed in from the base32 text).
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

impl TotpSetup {
    /// The `otpauth://` URI as an SVG QR code (no script, no external image).
    pub fn qr_svg(&self) -> AppResult<String> {
        let code = qrcode::QrCode::with_error_correction_level(
            self.otpauth_uri.as_bytes(),
            qrcode::EcLevel::M,
        )
        .map_err(AppError::internal)?;
        Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build())
    }
}

/// Which kind of code proved the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Totp,
    RecoveryCode,
}

/// The outcome of checking a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Ok(Proof),
    /// A right TOTP code of a time step already used (RFC 6238 5.2: never accepted twice).
    Reused,
    Wrong,
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> AppResult<TOTP> {
    // The otpauth label may not contain ':'; the issuer is the service's own name.
    let issuer = issuer.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW_STEPS as u8,
        STEP_SECS,
        secret,
        Some(issuer),
        account.replace(':', " "),
    )
    .map_err(AppError::internal)
}

/// The time step (of those within the skew) whose code this is, if any. Every candidate is
/// compared in constant time.
fn matching_step(t: &TOTP, code: &str, unix: u64) -> Option<u64> {
    let now = unix / STEP_SECS;
    let mut found = None;
    for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
        let expected = t.generate(step * STEP_SECS);
        if constant_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A code as typed: spaces and dashes dropped, lower case.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_totp_code(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_LEN)
                .map(|_| {
                    char::from(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())])
                })
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| hash_opaque(&normalise(c))).collect();
    (codes, hashes)
}

fn unix_now(app: &App) -> u64 {
    u64::try_from(app.now().unix_timestamp()).unwrap_or(0)
}

/// Checks a code of the user's: a TOTP code of a step not used before (the step is taken at
/// once), or an unused recovery code (used up at once).
pub(crate) async fn check_code(
    app: &App,
    user: UserId,
    email: &str,
    code: &str,
) -> AppResult<Check> {
    if code.chars().count() > MAX_CODE_CHARS {
        return Ok(Check::Wrong);
    }
    let code = normalise(code);
    let Some(row) = db::totp(&app.pool, user).await? else {
        return Ok(Check::Wrong);
    };
    if row.confirmed_at.is_none() {
        return Ok(Check::Wrong);
    }
    if is_totp_code(&code) {
        let t = totp(row.secret, &app.config.organizer_name, email)?;
        let Some(step) = matching_step(&t, &code, unix_now(app)) else {
            return Ok(Check::Wrong);
        };
        let step = i64::try_from(step).map_err(AppError::internal)?;
        return Ok(if db::take_step(&app.pool, user, step).await? {
            Check::Ok(Proof::Totp)
        } else {
            Check::Reused
        });
    }
    if code.len() == RECOVERY_LEN
        && db::use_recovery_code(&app.pool, user, &hash_opaque(&code)).await?
    {
        return Ok(Check::Ok(Proof::RecoveryCode));
    }
    Ok(Check::Wrong)
}

/// A new key for a user who must have a second factor and has none, handed out by the first
/// step of their login (replacing the key of an earlier login that was never confirmed).
pub(crate) async fn begin_at_login(app: &App, user: UserId, email: &str) -> AppResult<TotpSetup> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret[..]);
    if !db::begin_totp(&app.pool, user, &secret).await? {
        return Err(AppError::Conflict(
            "The authenticator is already set up.".into(),
        ));
    }
    let t = totp(secret, &app.config.organizer_name, email)?;
    Ok(TotpSetup {
        secret_base32: t.get_secret_base32(),
        otpauth_uri: t.get_url(),
    })
}

/// The second step of such a login: confirms the authenticator with a code it shows; the new
/// recovery codes, or None for a wrong code.
pub(crate) async fn confirm_at_login(
    app: &App,
    user: UserId,
    email: &str,
    code: &str,
) -> AppResult<Option<Vec<String>>> {
    let Some(row) = db::totp(&app.pool, user).await? else {
        return Ok(None);
    };
    if row.confirmed_at.is_some() || code.chars().count() > MAX_CODE_CHARS {
        return Ok(None);
    }
    let code = normalise(code);
    if !is_totp_code(&code) {
        return Ok(None);
    }
    let t = totp(row.secret, &app.config.organizer_name, email)?;
    let Some(step) = matching_step(&t, &code, unix_now(app)) else {
        return Ok(None);
    };
    let step = i64::try_from(step).map_err(AppError::internal)?;
    let (codes, hashes) = new_recovery_codes();
    let mut tx = app.pool.begin().await?;
    if !db::confirm_totp(&mut *tx, user, step).await? {
        return Ok(None);
    }
    db::replace_recovery_codes(&mut tx, user, &hashes).await?;
    let owner = users::get(&mut *tx, user).await?;
    crate::setup_mail::second_factor_changed(&mut tx, app, user, &owner.email, None).await?;
    handover_db::audit::record(
        &mut *tx,
        &handover_db::audit::AuditEvent {
            actor_user_id: Some(user),
            actor_org_id: Some(owner.organisation_id),
            actor_role: Some(owner.role.as_str()),
            action: "user.second_factor_enabled",
            target_type: Some("user"),
            target_id: Some(user.0),
            outcome: "success",
            request_id: None,
            client_addr: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(codes))
}

/// Whether the caller has an authenticator, and how many recovery codes are left.
pub async fn status(app: &App, actor: &Actor) -> AppResult<Status> {
    actor.require(Action::OwnSecondFactor)?;
    let user = actor.caller.user_id;
    Ok(Status {
        totp: db::has_totp(&app.pool, user).await?,
        recovery_codes_left: db::recovery_codes_left(&app.pool, user).await?,
        required: db::required(&app.pool, user).await?,
    })
}

/// The own-credentials counter (the same as `/me/password`'s): wrong passwords and codes here
/// never lock the account's logins.
fn own_key(user: UserId) -> String {
    format!("own_password:{user}")
}

async fn ensure_not_locked(app: &App, user: UserId) -> AppResult<()> {
    if let Some(until) = throttle::locked_until(&app.pool, &[own_key(user)]).await? {
        return Err(AppError::retry_after(until, app.now()));
    }
    Ok(())
}

async fn count_failure(app: &App, actor: &Actor, action: &str) -> AppResult<()> {
    throttle::record_failure(
        &app.pool,
        &own_key(actor.caller.user_id),
        app.config.own_password_throttle.limit(),
    )
    .await?;
    audit(
        &app.pool,
        actor,
        action,
        Some(("user", actor.caller.user_id.0)),
        "bad_credentials",
    )
    .await?;
    Ok(())
}

/// Starts setting up an authenticator, given the current password (a stolen session alone
/// cannot add a factor of its own). Starting again replaces the key of a setup not yet
/// confirmed; a confirmed authenticator has to be removed first.
pub async fn begin_totp(
    app: &App,
    actor: &Actor,
    current_password: String,
) -> AppResult<TotpSetup> {
    actor.require(Action::OwnSecondFactor)?;
    let user_id = actor.caller.user_id;
    ensure_not_locked(app, user_id).await?;
    let user = users::get(&app.pool, user_id).await?;
    let stored = users::password_hash(&app.pool, user_id).await?;
    let ok = current_password.chars().count() <= MAX_PASSWORD_CHARS
        && app.hasher.verify(current_password, stored).await?;
    if !ok {
        count_failure(app, actor, "user.second_factor_setup").await?;
        return Err(AppError::field(
            "current_password",
            "incorrect",
            "is not your current password",
        ));
    }
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret[..]);
    if !db::begin_totp(&app.pool, user_id, &secret).await? {
        return Err(AppError::Conflict(
            "An authenticator is already set up; remove it before setting up another.".into(),
        ));
    }
    let t = totp(secret, &app.config.organizer_name, &user.email)?;
    audit(
        &app.pool,
        actor,
        "user.second_factor_setup",
        Some(("user", user_id.0)),
        "started",
    )
    .await?;
    Ok(TotpSetup {
        secret_base32: t.get_secret_base32(),
        otpauth_uri: t.get_url(),
    })
}

/// The setup being confirmed, for showing its key again (a page reloaded, a QR code that did
/// not scan). None when no setup is under way.
pub async fn pending_totp(app: &App, actor: &Actor) -> AppResult<Option<TotpSetup>> {
    actor.require(Action::OwnSecondFactor)?;
    let user = users::get(&app.pool, actor.caller.user_id).await?;
    pending_for(app, user.id, &user.email).await
}

pub(crate) async fn pending_for(
    app: &App,
    user: UserId,
    email: &str,
) -> AppResult<Option<TotpSetup>> {
    let Some(row) = db::totp(&app.pool, user).await? else {
        return Ok(None);
    };
    if row.confirmed_at.is_some() {
        return Ok(None);
    }
    let t = totp(row.secret, &app.config.organizer_name, email)?;
    Ok(Some(TotpSetup {
        secret_base32: t.get_secret_base32(),
        otpauth_uri: t.get_url(),
    }))
}

/// Confirms the authenticator being set up with a code it shows, and hands out the recovery
/// codes (shown once: only their hashes are kept). The caller's other sessions end: they were
/// started without the factor.
pub async fn confirm_totp(app: &App, actor: &Actor, code: &str) -> AppResult<Vec<String>> {
    actor.require(Action::OwnSecondFactor)?;
    let user_id = actor.caller.user_id;
    ensure_not_locked(app, user_id).await?;
    let Some(row) = db::totp(&app.pool, user_id).await? else {
        return Err(AppError::Conflict(
            "No authenticator is being set up.".into(),
        ));
    };
    if row.confirmed_at.is_some() {
        return Err(AppError::Conflict(
            "The authenticator is already set up.".into(),
        ));
    }
    let user = users::get(&app.pool, user_id).await?;
    let t = totp(row.secret, &app.config.organizer_name, &user.email)?;
    let code = normalise(code);
    let step = if code.chars().count() <= MAX_CODE_CHARS && is_totp_code(&code) {
        matching_step(&t, &code, unix_now(app))
    } else {
        None
    };
    let Some(step) = step else {
        count_failure(app, actor, "user.second_factor_setup").await?;
        return Err(AppError::field(
            "code",
            "incorrect",
            "is not the code the authenticator shows now",
        ));
    };
    let step = i64::try_from(step).map_err(AppError::internal)?;
    let (codes, hashes) = new_recovery_codes();
    let mut tx = app.pool.begin().await?;
    if !db::confirm_totp(&mut *tx, user_id, step).await? {
        return Err(AppError::Conflict(
            "The authenticator is already set up.".into(),
        ));
    }
    db::replace_recovery_codes(&mut tx, user_id, &hashes).await?;
    sessions::revoke_all(
        &mut *tx,
        user_id,
        "second_factor_added",
        Some(actor.caller.session_id),
    )
    .await?;
    crate::setup_mail::second_factor_changed(&mut tx, app, user_id, &user.email, None).await?;
    audit(
        &mut *tx,
        actor,
        "user.second_factor_enabled",
        Some(("user", user_id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Checks a code for one of the owner's own changes (new recovery codes, removal): the wrong
/// code, or none set up, is a message beside the field.
async fn require_own_code(app: &App, actor: &Actor, code: &str, action: &str) -> AppResult<()> {
    let user_id = actor.caller.user_id;
    ensure_not_locked(app, user_id).await?;
    if !db::has_totp(&app.pool, user_id).await? {
        return Err(AppError::Conflict("No authenticator is set up.".into()));
    }
    let user = users::get(&app.pool, user_id).await?;
    match check_code(app, user_id, &user.email, code).await? {
        Check::Ok(_) => Ok(()),
        Check::Reused => {
            count_failure(app, actor, action).await?;
            Err(AppError::field(
                "code",
                "reused",
                "was used already; wait for the next code",
            ))
        }
        Check::Wrong => {
            count_failure(app, actor, action).await?;
            Err(AppError::field(
                "code",
                "incorrect",
                "is not a current code or an unused recovery code",
            ))
        }
    }
}

/// New recovery codes in place of the old ones, given a code.
pub async fn renew_recovery_codes(app: &App, actor: &Actor, code: &str) -> AppResult<Vec<String>> {
    actor.require(Action::OwnSecondFactor)?;
    require_own_code(app, actor, code, "user.recovery_codes_renewed").await?;
    let user_id = actor.caller.user_id;
    let (codes, hashes) = new_recovery_codes();
    let mut tx = app.pool.begin().await?;
    db::replace_recovery_codes(&mut tx, user_id, &hashes).await?;
    audit(
        &mut *tx,
        actor,
        "user.recovery_codes_renewed",
        Some(("user", user_id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes the authenticator and its recovery codes, given a code.
pub async fn remove(app: &App, actor: &Actor, code: &str) -> AppResult<()> {
    actor.require(Action::OwnSecondFactor)?;
    if db::required(&app.pool, actor.caller.user_id).await? {
        return Err(AppError::Conflict(
            "Administrators must keep a second factor; set up new recovery codes instead, or ask another administrator to reset it.".into(),
        ));
    }
    require_own_code(app, actor, code, "user.second_factor_removed").await?;
    let user_id = actor.caller.user_id;
    let email = users::get(&app.pool, user_id).await?.email;
    let mut tx = app.pool.begin().await?;
    db::remove(&mut tx, user_id).await?;
    crate::setup_mail::second_factor_changed(&mut tx, app, user_id, &email, Some(None)).await?;
    audit(
        &mut *tx,
        actor,
        "user.second_factor_removed",
        Some(("user", user_id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the user `id` has a second factor, for an administrator who may manage the account.
pub async fn has_one(app: &App, actor: &Actor, id: uuid::Uuid) -> AppResult<bool> {
    let user = crate::users::load_for(app, actor, id, Action::UserRead, None).await?;
    Ok(db::totp(&app.pool, user.id).await?.is_some())
}

/// An administrator's reset of another user's second factor (a lost phone and lost recovery
/// codes): the authenticator and the codes are removed, every session of the user ends, and the
/// owner is told by e-mail. An administrator sets up a new one at the next sign-in; staff sign
/// in with the password alone until they add one. One's own is changed on one's own page.
pub async fn reset_for(app: &App, actor: &Actor, id: uuid::Uuid) -> AppResult<()> {
    let user = crate::users::load_for(app, actor, id, Action::UserPasswordSetupIssue, None).await?;
    if user.id == actor.caller.user_id {
        return Err(AppError::Conflict(
            "Your own second factor is changed on your own account page.".into(),
        ));
    }
    if db::totp(&app.pool, user.id).await?.is_none() {
        return Err(AppError::Conflict("The user has no second factor.".into()));
    }
    let by = handover_db::orgs::get(&app.pool, actor.caller.org_id)
        .await?
        .name;
    let mut tx = app.pool.begin().await?;
    db::remove(&mut tx, user.id).await?;
    sessions::revoke_all(&mut *tx, user.id, "second_factor_reset", None).await?;
    crate::setup_mail::second_factor_changed(&mut tx, app, user.id, &user.email, Some(Some(&by)))
        .await?;
    audit(
        &mut *tx,
        actor,
        "user.second_factor_reset",
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TOTP {
        totp(
            b"12345678901234567890".to_vec(),
            "Overføring: test",
            "a@example.no",
        )
        .unwrap()
    }

    #[test]
    fn codes_of_the_neighbouring_steps_match_and_others_do_not() {
        let t = sample();
        let now = 1_800_000_000u64;
        let step = now / STEP_SECS;
        for (delta, expect) in [(-1i64, true), (0, true), (1, true), (-2, false), (2, false)] {
            let s = (step as i64 + delta) as u64;
            let code = t.generate(s * STEP_SECS);
            let got = matching_step(&t, &code, now);
            if expect {
                assert_eq!(got, Some(s), "delta {delta}");
            } else {
                // Another step's code can collide with a neighbour's by chance (1 in 10^6).
                assert_ne!(got, Some(s), "delta {delta}");
            }
        }
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 in eight digits, 287082 in six.
        let t = sample();
        assert_eq!(t.generate(59), "287082");
    }

    #[test]
    fn recovery_codes_are_distinct_readable_and_typed_back_in_any_case() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), RECOVERY_LEN + 1);
            assert!(!c.contains(['0', 'o', '1', 'l', 'i']));
        }
        let typed = format!(" {} ", codes[0].to_uppercase().replace('-', " - "));
        assert_eq!(hash_opaque(&normalise(&typed)), hashes[0]);
    }

    #[test]
    fn the_otpauth_uri_names_the_service_and_the_account() {
        let uri = sample().get_url();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains("a%40example.no") || uri.contains("a@example.no"),
            "{uri}"
        );
        assert!(uri.contains("issuer="), "{uri}");
        // The issuer's own ':' is gone, so the label has one separator only.
        assert!(!uri.contains("%3A"), "{uri}");
        assert_eq!(
            uri.matches(':').count(),
            2,
            "otpauth: and the label's: {uri}"
        );
    }
}
