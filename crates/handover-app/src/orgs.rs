//! The organisation register: readable by every signed-in user, managed by operator
//! administrators.

use crate::App;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use handover_db::orgs::{self, NewOrganisation, OrgChanges, OrgFilter};
use handover_db::sessions;
use handover_domain::org::is_municipality_number;
use handover_domain::validation::MAX_NAME_CHARS;
use handover_domain::{Action, OrgId, OrgKind, Organisation, Page, Paging, Relation, Validator};
use uuid::Uuid;

/// What a list of organisations may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct OrgQuery {
    pub kind: Option<OrgKind>,
    /// Part of the name, or the start of a municipality number.
    pub q: Option<String>,
    pub active: Option<bool>,
    pub paging: Paging,
}

/// A new organisation.
#[derive(Debug, Clone)]
pub struct OrgInput {
    pub kind: OrgKind,
    pub name: String,
    /// Required for municipalities.
    pub municipality_number: Option<String>,
    pub county: Option<String>,
    /// For a career centre: the reception centre it serves.
    pub serves_reception_centre_id: Option<OrgId>,
}

/// A change to an organisation; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub county: Option<Option<String>>,
    pub active: Option<bool>,
    pub serves_reception_centre_id: Option<Option<OrgId>>,
    /// Every user must sign in with a second factor.
    pub require_second_factor: Option<bool>,
}

async fn load(app: &App, id: Uuid) -> AppResult<Organisation> {
    match orgs::get(&app.pool, OrgId(id)).await {
        Err(handover_db::DbError::NotFound) => Err(AppError::NotFound),
        other => Ok(other?),
    }
}

/// Checks that `target` is a reception centre, for `serves_reception_centre_id`.
async fn check_serves(app: &App, v: &mut Validator, target: OrgId) -> AppResult<()> {
    let ok = match orgs::get(&app.pool, target).await {
        Ok(o) => o.kind == OrgKind::ReceptionCentre,
        Err(handover_db::DbError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    v.check(
        ok,
        "serves_reception_centre_id",
        "not_a_reception_centre",
        "must be a reception centre",
    );
    Ok(())
}

/// Organisations: reception centres, career centres and Norway's municipalities.
pub async fn list(app: &App, actor: &Actor, q: OrgQuery) -> AppResult<Page<Organisation>> {
    actor.require(Action::OrgRead)?;
    let (limit, offset) = q.paging.resolve()?;
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    if q.q.as_ref().is_some_and(|s| s.contains(char::is_control)) {
        return Err(AppError::field(
            "q",
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    let page = orgs::list(
        &app.pool,
        &OrgFilter {
            kind: q.kind,
            q: q.q,
            active: q.active,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    })
}

/// One organisation.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Organisation> {
    actor.require(Action::OrgRead)?;
    let org = load(app, id).await?;
    actor.check(Action::OrgRead, actor.relation_to_org(org.id))?;
    Ok(org)
}

/// Creates an organisation (operator administrators).
pub async fn create(app: &App, actor: &Actor, req: OrgInput) -> AppResult<Organisation> {
    actor.require(Action::OrgCreate)?;
    actor.check(Action::OrgCreate, Relation::Unrelated)?;
    let mut v = Validator::new();
    v.text("name", &req.name, MAX_NAME_CHARS);
    v.check(
        req.kind != OrgKind::Operator,
        "kind",
        "not_allowed",
        "there is only one operator organisation",
    );
    match (&req.municipality_number, req.kind) {
        (Some(n), OrgKind::Municipality) => v.check(
            is_municipality_number(n),
            "municipality_number",
            "invalid",
            "must be four digits",
        ),
        (None, OrgKind::Municipality) => v.add(
            "municipality_number",
            "required",
            "required for a municipality",
        ),
        (Some(_), _) => v.add(
            "municipality_number",
            "not_allowed",
            "only municipalities have a number",
        ),
        (None, _) => {}
    }
    if let Some(c) = &req.county {
        v.text("county", c, 100);
    }
    match (req.serves_reception_centre_id, req.kind) {
        (Some(target), OrgKind::CareerCentre) => check_serves(app, &mut v, target).await?,
        (Some(_), _) => v.add(
            "serves_reception_centre_id",
            "not_allowed",
            "only a career centre serves a reception centre",
        ),
        (None, _) => {}
    }
    v.finish()?;

    let id = OrgId::new();
    let mut tx = app.pool.begin().await?;
    orgs::create(
        &mut *tx,
        &NewOrganisation {
            id,
            kind: req.kind,
            name: req.name.trim(),
            municipality_number: req.municipality_number.as_deref(),
            county: req.county.as_deref().map(str::trim),
            serves_reception_centre_id: req.serves_reception_centre_id,
        },
    )
    .await?;
    audit(
        &mut *tx,
        actor,
        "organisation.create",
        Some(("organisation", id.0)),
        "success",
    )
    .await?;
    let org = orgs::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(org)
}

/// Renames, (de)activates, sets which reception centre a career centre serves, or requires a
/// second factor of every user, at the version the caller edited. Deactivating revokes every session of the organisation's users.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    req: OrgPatch,
) -> AppResult<Organisation> {
    actor.require(Action::OrgUpdate)?;
    let org = load(app, id).await?;
    actor.check(Action::OrgUpdate, actor.relation_to_org(org.id))?;
    let version = expected.check(org.version)?;
    let mut v = Validator::new();
    if let Some(n) = &req.name {
        v.text("name", n, MAX_NAME_CHARS);
    }
    if let Some(Some(c)) = &req.county {
        v.text("county", c, 100);
    }
    match (req.serves_reception_centre_id, org.kind) {
        (Some(Some(target)), OrgKind::CareerCentre) => check_serves(app, &mut v, target).await?,
        (Some(Some(_)), _) => v.add(
            "serves_reception_centre_id",
            "not_allowed",
            "only a career centre serves a reception centre",
        ),
        _ => {}
    }
    v.check(
        !(org.kind == OrgKind::Operator && req.active == Some(false)),
        "active",
        "not_allowed",
        "the operator organisation cannot be deactivated",
    );
    v.finish()?;

    let mut tx = app.pool.begin().await?;
    let changes = OrgChanges {
        name: req.name.as_deref().map(str::trim),
        county: req.county.as_ref().map(|c| c.as_deref().map(str::trim)),
        active: req.active,
        serves_reception_centre_id: req.serves_reception_centre_id,
        require_second_factor: req.require_second_factor,
    };
    if !orgs::update(&mut *tx, org.id, version, &changes).await? {
        return Err(AppError::PreconditionFailed);
    }
    if req.require_second_factor == Some(true) && !org.require_second_factor {
        // The requirement holds from the next request: whoever signed in without a second
        // factor signs in again, and sets one up then.
        handover_db::second_factor::revoke_sessions_without(
            &mut *tx,
            org.id,
            "second_factor_required",
        )
        .await?;
    }
    if req.active == Some(false) && org.active {
        // Old tokens must stay dead if the organisation is reactivated later.
        sessions::revoke_org(&mut *tx, org.id, "organisation_deactivated").await?;
    }
    audit(
        &mut *tx,
        actor,
        "organisation.update",
        Some(("organisation", org.id.0)),
        "success",
    )
    .await?;
    let updated = orgs::get(&mut *tx, org.id).await?;
    tx.commit().await?;
    Ok(updated)
}
