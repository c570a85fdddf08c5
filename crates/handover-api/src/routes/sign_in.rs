//! An organisation's sign-in: its OpenID Connect identity provider and whether local passwords
//! stay allowed (`handover_app::sso`). For the organisation's administrators and the operator's.

use crate::answer::with_etag;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Auth, IfMatch};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_app::sso as uc;
use handover_domain::OrgId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The settings of an organisation's identity provider. The client secret itself never
/// passes through the API: `client_secret_file` names the file holding it in the directory
/// the operator gives the service (`HANDOVER_SSO_SECRETS_DIR`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderInput {
    /// The provider's issuer, e.g. `https://login.microsoftonline.com/<tenant>/v2.0` (Entra ID)
    /// or `https://ansattporten.no` (Ansattporten); its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`.
    #[schema(
        max_length = 500,
        example = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
    )]
    pub issuer: String,
    /// The client id the provider issued for this service.
    #[schema(max_length = 200)]
    pub client_id: String,
    /// The name of the file with the client secret; omitted for a public client (PKCE only).
    #[schema(max_length = 100, pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]*$")]
    pub client_secret_file: Option<String>,
    /// Scopes asked for besides `openid` (e.g. `email`, `profile`).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub scopes: Vec<String>,
    /// The ID-token claim that identifies the person for good: `sub` (default), Entra ID's
    /// `oid`, or Ansattporten's `pid`.
    #[schema(max_length = 64)]
    pub subject_claim: Option<String>,
    /// The claim that must equal the user's e-mail address at the first sign-in (default
    /// `email`; Entra ID often `preferred_username`).
    #[schema(max_length = 64)]
    pub email_claim: Option<String>,
    /// E-mail domains whose users the sign-in page sends to this provider.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub email_domains: Vec<String>,
    /// `acr` values of which the ID token must carry one (e.g. `idporten-loa-substantial`,
    /// `idporten-loa-high`); asked for in the authorization request. Empty: any.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub acr_values: Vec<String>,
    /// The ID token's `amr` must show a second factor (`mfa`, `otp`, `hwk`, ...).
    #[serde(default)]
    pub require_mfa: bool,
    /// Whether the organisation's users may still sign in with a local password (default
    /// true). Turning it off ends their password sessions; never for the operator.
    pub passwords_allowed: Option<bool>,
}

/// An organisation's identity provider as stored, with what to register at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProvider {
    pub organisation_id: OrgId,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: Option<String>,
    /// Whether the service can read the secret file now (false: sign-ins fail until the
    /// operator puts it in place).
    pub client_secret_readable: bool,
    pub scopes: Vec<String>,
    pub subject_claim: String,
    pub email_claim: String,
    pub email_domains: Vec<String>,
    pub acr_values: Vec<String>,
    pub require_mfa: bool,
    pub passwords_allowed: bool,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
    /// The back-channel logout URI to register at the provider.
    pub backchannel_logout_uri: String,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: time::OffsetDateTime,
}

fn answer(v: uc::ProviderView) -> IdentityProvider {
    IdentityProvider {
        organisation_id: v.org_id,
        issuer: v.settings.issuer,
        client_id: v.settings.client_id,
        client_secret_file: v.settings.client_secret_file,
        client_secret_readable: v.secret_readable,
        scopes: v.settings.scopes,
        subject_claim: v.settings.subject_claim,
        email_claim: v.settings.email_claim,
        email_domains: v.settings.email_domains,
        acr_values: v.settings.acr_values,
        require_mfa: v.settings.require_mfa,
        passwords_allowed: v.settings.passwords_allowed,
        redirect_uri: v.redirect_uri,
        backchannel_logout_uri: v.backchannel_logout_uri,
        version: v.version,
        updated_at: v.updated_at,
    }
}

/// Read the organisation's identity provider (404 when it has none).
#[utoipa::path(operation_id = "get_identity_provider", get, path = "/api/v1/organisations/{id}/identity-provider", tag = "organisations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = IdentityProvider, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let v = uc::get(&state, &auth, id).await?;
    Ok(with_etag(v.version, Json(answer(v))))
}

/// Configure the organisation's identity provider: create it, or replace it with `If-Match`.
/// A new issuer or subject claim unlinks every user and ends the sessions the old provider
/// started.
#[utoipa::path(operation_id = "put_identity_provider", put, path = "/api/v1/organisations/{id}/identity-provider", tag = "organisations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version edited; required to replace one")),
    request_body = IdentityProviderInput,
    responses(
        (status = 200, body = IdentityProvider, headers(("ETag" = String))),
    ))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<IdentityProviderInput>,
) -> ApiResult<Response> {
    let settings = uc::ProviderSettings {
        issuer: req.issuer,
        client_id: req.client_id,
        client_secret_file: req.client_secret_file,
        scopes: req.scopes,
        subject_claim: req.subject_claim.unwrap_or_default(),
        email_claim: req.email_claim.unwrap_or_default(),
        email_domains: req.email_domains,
        acr_values: req.acr_values,
        require_mfa: req.require_mfa,
        passwords_allowed: req.passwords_allowed.unwrap_or(true),
    };
    let v = uc::put(&state, &auth, id, if_match.precondition(), settings).await?;
    Ok(with_etag(v.version, Json(answer(v))))
}

/// Remove the organisation's identity provider (requires `If-Match`): its users sign in with
/// local passwords again, and the sessions it started end.
#[utoipa::path(operation_id = "delete_identity_provider", delete, path = "/api/v1/organisations/{id}/identity-provider", tag = "organisations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version removed")),
    responses((status = 204, description = "Removed")))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    uc::delete(&state, &auth, id, if_match.precondition()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
