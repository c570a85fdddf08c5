//! The qualification-pathway catalogue: readable by every signed-in user, managed by operator
//! administrators. Every change makes a new version; referenced offerings are retired, not deleted.

use crate::App;
use crate::actor::{Actor, Granted};
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use handover_db::DbError;
use handover_db::guidance::{self, OfferingFilter};
use handover_domain::guidance::{Offering, OfferingGroup, OfferingInput, OfferingVersion};
use handover_domain::{Action, Page, Paging, Relation};
use uuid::Uuid;

/// What a list of offerings may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct OfferingQuery {
    pub group: Option<OfferingGroup>,
    /// Include retired offerings (default false).
    pub include_retired: Option<bool>,
    /// Part of the name (either language) or key.
    pub q: Option<String>,
    pub paging: Paging,
}

async fn load(app: &App, id: Uuid) -> AppResult<Offering> {
    match guidance::get_offering(&app.pool, id).await {
        Err(DbError::NotFound) => Err(AppError::NotFound),
        other => Ok(other?),
    }
}

fn manage(actor: &Actor) -> AppResult<Granted> {
    actor.require(Action::CatalogueManage)?;
    actor.check(Action::CatalogueManage, Relation::Unrelated)
}

fn key_conflict(e: DbError) -> AppError {
    match e {
        DbError::Conflict(c) if c == "catalogue_offerings_key_key" => {
            AppError::Conflict("An offering with this key already exists.".into())
        }
        DbError::Conflict(c) if c == "catalogue_offering_referenced" => AppError::Conflict(
            "Guidance summaries recommend this offering; retire it instead of deleting it.".into(),
        ),
        other => other.into(),
    }
}

/// Catalogue offerings, by group and key.
pub async fn list(app: &App, actor: &Actor, q: OfferingQuery) -> AppResult<Page<Offering>> {
    actor.require(Action::CatalogueRead)?;
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    // PostgreSQL text holds no NUL, and no search needs a control character.
    if q.q.as_ref().is_some_and(|s| s.contains(char::is_control)) {
        return Err(AppError::field(
            "q",
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    q.paging.resolve()?;
    let items = guidance::list_offerings(
        &app.pool,
        &OfferingFilter {
            group: q.group,
            include_retired: q.include_retired.unwrap_or(false),
            q: q.q,
        },
    )
    .await?;
    Ok(Page::slice(items, &q.paging)?)
}

/// An offering (its current version).
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Offering> {
    actor.require(Action::CatalogueRead)?;
    load(app, id).await
}

/// Every version of an offering, newest first.
pub async fn versions(
    app: &App,
    actor: &Actor,
    id: Uuid,
    paging: Paging,
) -> AppResult<Page<OfferingVersion>> {
    actor.require(Action::CatalogueRead)?;
    paging.resolve()?;
    load(app, id).await?;
    let all = guidance::offering_versions(&app.pool, id).await?;
    Ok(Page::slice(all, &paging)?)
}

/// Adds an offering (operator administrators).
pub async fn create(app: &App, actor: &Actor, input: OfferingInput) -> AppResult<Offering> {
    manage(actor)?;
    input.validate(app.today())?;
    let id = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    guidance::create_offering(&mut tx, id, &input, actor.caller.user_id)
        .await
        .map_err(key_conflict)?;
    audit(
        &mut *tx,
        actor,
        "catalogue.create",
        Some(("offering", id)),
        "success",
    )
    .await?;
    let o = guidance::get_offering(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(o)
}

/// What a new version changes.
enum Change {
    Content(Box<OfferingInput>),
    Retired(bool),
}

async fn new_version(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: &Precondition,
    change: Change,
    action: &str,
) -> AppResult<Offering> {
    manage(actor)?;
    let current = load(app, id).await?;
    let version = expected.check(current.version)?;
    let (input, retired) = match change {
        Change::Content(i) => (*i, None),
        Change::Retired(r) if r == current.retired => {
            return Err(AppError::Conflict(
                if r {
                    "The offering is already retired."
                } else {
                    "The offering is not retired."
                }
                .into(),
            ));
        }
        Change::Retired(r) => (current.data.clone(), Some(r)),
    };
    input.validate(app.today())?;
    if input.key != current.data.key {
        return Err(AppError::field(
            "key",
            "immutable",
            "the key of an offering cannot change",
        ));
    }
    let mut tx = app.pool.begin().await?;
    if !guidance::update_offering(
        &mut tx,
        id,
        version,
        &input,
        retired.unwrap_or(current.retired),
        actor.caller.user_id,
    )
    .await?
    {
        return Err(AppError::PreconditionFailed);
    }
    audit(&mut *tx, actor, action, Some(("offering", id)), "success").await?;
    let o = guidance::get_offering(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(o)
}

/// Replaces an offering's content: a new version.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    input: OfferingInput,
) -> AppResult<Offering> {
    new_version(
        app,
        actor,
        id,
        &expected,
        Change::Content(Box::new(input)),
        "catalogue.update",
    )
    .await
}

/// Retires an offering: it can no longer be recommended; summaries that recommend it keep it.
pub async fn retire(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
) -> AppResult<Offering> {
    new_version(
        app,
        actor,
        id,
        &expected,
        Change::Retired(true),
        "catalogue.retire",
    )
    .await
}

/// Brings a retired offering back.
pub async fn reinstate(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
) -> AppResult<Offering> {
    new_version(
        app,
        actor,
        id,
        &expected,
        Change::Retired(false),
        "catalogue.reinstate",
    )
    .await
}

/// Deletes an offering that no summary references (409 otherwise: retire it).
pub async fn delete(app: &App, actor: &Actor, id: Uuid, expected: Precondition) -> AppResult<()> {
    manage(actor)?;
    let current = load(app, id).await?;
    let version = expected.check(current.version)?;
    let mut tx = app.pool.begin().await?;
    if !guidance::delete_offering(&mut tx, id, version, actor.caller.user_id)
        .await
        .map_err(key_conflict)?
    {
        return Err(AppError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        actor,
        "catalogue.delete",
        Some(("offering", id)),
        "success",
    )
    .await?;
    tx.commit().await.map_err(|e| key_conflict(e.into()))?;
    Ok(())
}
