//! Password-setup and reset e-mails. A setup or reset token is only ever shown to the account's
//! owner: it travels in an e-mail to the account's own address, queued in the outbox in the
//! transaction that issues it, and the outbox row's body is blanked once sent. The API that
//! asks for it learns only that it was sent (docs/security.md, "Review findings of 2026-12", 1).

use crate::App;
use crate::error::AppResult;
use crate::secrets::new_opaque_token;
use handover_db::outbox::{self, NewMail};
use handover_db::sessions;
use handover_domain::{User, UserId};
use handover_mail::templates;
use sqlx::PgConnection;
use time::OffsetDateTime;

/// Which e-mail an issued token went out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupKind {
    /// The account has no password yet.
    Setup,
    /// The account has a password: its owner is told who asked, and that the old one works
    /// until the link is used.
    Reset,
}

impl SetupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupKind::Setup => "setup",
            SetupKind::Reset => "reset",
        }
    }
}

/// Who asked for a password-setup link.
#[derive(Debug, Clone, Copy)]
pub enum AskedBy<'a> {
    /// An administrator (or the operator) of this organisation, named in the reset text.
    Admin { user: UserId, organisation: &'a str },
    /// Someone on the sign-in page who gave the account's address.
    SignInPage,
}

/// Issues a one-time token for `user` and queues the e-mail that carries it, in `tx`.
/// Returns which e-mail it was and when the link expires.
pub async fn issue(
    tx: &mut PgConnection,
    app: &App,
    user: &User,
    asked_by: AskedBy<'_>,
) -> AppResult<(SetupKind, OffsetDateTime)> {
    let issued_by = match asked_by {
        AskedBy::Admin { user, .. } => Some(user),
        AskedBy::SignInPage => None,
    };
    let (token, hash) = new_opaque_token();
    let ttl =
        time::Duration::try_from(app.config.password_setup_ttl).unwrap_or(time::Duration::DAY);
    let expires_at = app.now() + ttl;
    // Only the newest link works: a link in an e-mail that went astray dies with the resend.
    sessions::spend_password_setups(&mut *tx, user.id).await?;
    sessions::create_password_setup(&mut *tx, user.id, issued_by, &hash, expires_at).await?;
    // The web page takes the token from the query into a cookie at once and redirects, so it
    // stays in the address bar for one request only (docs/security.md, "Password-setup links").
    let link = app.link(&format!("/password-setup?token={token}"));
    let hours = app.config.password_setup_ttl.as_secs() / 3600;
    let kind = if user.has_password {
        SetupKind::Reset
    } else {
        SetupKind::Setup
    };
    let notice = match (asked_by, kind) {
        (AskedBy::SignInPage, _) => templates::password_forgotten(&link, hours),
        (AskedBy::Admin { .. }, SetupKind::Setup) => templates::password_setup(&link, hours),
        (AskedBy::Admin { organisation, .. }, SetupKind::Reset) => {
            templates::password_reset(&link, hours, organisation)
        }
    };
    outbox::enqueue(
        &mut *tx,
        &NewMail {
            // One message per token: a resend is a new token and a new message.
            dedupe_key: format!("password_setup:{}:{}", user.id, hex(&hash[..8])),
            to: &user.email,
            subject: notice.subject,
            body_text: notice.body,
            secret: true,
            ..Default::default()
        },
    )
    .await?;
    Ok((kind, expires_at))
}

/// Queues a plain notice (no secret) to one address.
pub async fn notify(
    tx: &mut PgConnection,
    key: String,
    to: &str,
    notice: templates::Notice,
) -> AppResult<()> {
    outbox::enqueue(
        &mut *tx,
        &NewMail {
            dedupe_key: key,
            to,
            subject: notice.subject,
            body_text: notice.body,
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Tells the owner of an account that had a password that it was changed.
pub async fn password_changed(
    tx: &mut PgConnection,
    app: &App,
    user: UserId,
    email: &str,
) -> AppResult<()> {
    let now = app.now();
    let when = crate::invitations::when(now);
    notify(
        tx,
        format!(
            "password_changed:{user}:{}",
            now.unix_timestamp_nanos() / 1000
        ),
        email,
        templates::password_changed(&when),
    )
    .await
}

/// Tells the owner that the account's second factor was turned on or removed (`None` for on,
/// `Some(by)` for off, `by` naming the organisation of the administrator who reset it, if one
/// did).
pub async fn second_factor_changed(
    tx: &mut PgConnection,
    app: &App,
    user: UserId,
    email: &str,
    removed: Option<Option<&str>>,
) -> AppResult<()> {
    let now = app.now();
    let when = crate::invitations::when(now);
    let (kind, notice) = match removed {
        None => (
            "second_factor_enabled",
            templates::second_factor_enabled(&when),
        ),
        Some(by) => (
            "second_factor_removed",
            templates::second_factor_removed(&when, by),
        ),
    };
    notify(
        tx,
        format!("{kind}:{user}:{}", now.unix_timestamp_nanos() / 1000),
        email,
        notice,
    )
    .await
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
