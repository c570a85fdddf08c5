//! The items of a participant's full-time-programme record that come many to a participant:
//! programme elements and placements. One set of use cases for both, so their access, audit,
//! history and version rules cannot drift apart. (The one-per-participant documents are in
//! `crate::documents`.)

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Audited, Disclosed, Sealed, audit_participant};
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use crate::record::{Changed, log_write, write_log};
use handover_db::participants::{self, Owner, WriteLog};
use handover_db::{DbError, DbResult};
use handover_domain::participant::{
    Attendance, Placement, PlacementInput, PlacementPatch, ProgrammeElement, ProgrammeElementInput,
    ProgrammeElementPatch, attendance,
};
use handover_domain::{Action, FieldError, Page, Paging};
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

/// A kind of record item: its section name and how it is stored.
pub trait Item: Sized + Send + Sync {
    type Input: Send + Sync;
    type Patch: Send + Sync;
    /// The section in the history and the audit action's prefix.
    const SECTION: &'static str;

    fn version(&self) -> i32;
    fn data(&self) -> &Self::Input;
    fn validate(input: &Self::Input, today: Date) -> Result<(), Vec<FieldError>>;
    /// The patched input and the names of the fields it changes.
    fn apply(patch: &Self::Patch, current: &Self::Input) -> (Self::Input, Vec<&'static str>);

    fn list(
        db: &PgPool,
        participant: Uuid,
    ) -> impl Future<Output = DbResult<Sealed<Vec<Self>>>> + Send;
    fn get(
        db: &mut sqlx::PgConnection,
        participant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = DbResult<Sealed<Self>>> + Send;
    fn owner_and(
        db: &PgPool,
        participant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = DbResult<Option<(Owner, Option<Sealed<Self>>)>>> + Send;
    fn create(
        db: &mut sqlx::PgConnection,
        participant: Uuid,
        id: Uuid,
        input: &Self::Input,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The change, with its history line and audit row in the same statement.
    fn update(
        db: &PgPool,
        log: &WriteLog<'_>,
        participant: Uuid,
        id: Uuid,
        version: i32,
        input: &Self::Input,
    ) -> impl Future<Output = DbResult<Option<(Self, Audited)>>> + Send;
    fn delete(
        db: &mut sqlx::PgConnection,
        participant: Uuid,
        id: Uuid,
        version: i32,
    ) -> impl Future<Output = DbResult<bool>> + Send;
}

impl Item for ProgrammeElement {
    type Input = ProgrammeElementInput;
    type Patch = ProgrammeElementPatch;
    const SECTION: &'static str = "programme_element";
    fn version(&self) -> i32 {
        self.version
    }
    fn data(&self) -> &ProgrammeElementInput {
        &self.data
    }
    fn validate(i: &ProgrammeElementInput, today: Date) -> Result<(), Vec<FieldError>> {
        i.validate(today)
    }
    fn apply(
        p: &ProgrammeElementPatch,
        c: &ProgrammeElementInput,
    ) -> (ProgrammeElementInput, Vec<&'static str>) {
        p.apply(c)
    }
    async fn list(db: &PgPool, p: Uuid) -> DbResult<Sealed<Vec<Self>>> {
        participants::list_elements(db, p).await
    }
    async fn get(db: &mut sqlx::PgConnection, p: Uuid, id: Uuid) -> DbResult<Sealed<Self>> {
        participants::get_element(db, p, id).await
    }
    async fn owner_and(
        db: &PgPool,
        p: Uuid,
        id: Uuid,
    ) -> DbResult<Option<(Owner, Option<Sealed<Self>>)>> {
        participants::owner_and_element(db, p, id).await
    }
    async fn create(
        db: &mut sqlx::PgConnection,
        p: Uuid,
        id: Uuid,
        i: &ProgrammeElementInput,
    ) -> DbResult<()> {
        participants::create_element(db, p, id, i).await
    }
    async fn update(
        db: &PgPool,
        log: &WriteLog<'_>,
        p: Uuid,
        id: Uuid,
        v: i32,
        i: &ProgrammeElementInput,
    ) -> DbResult<Option<(Self, Audited)>> {
        participants::update_element(db, log, p, id, v, i).await
    }
    async fn delete(db: &mut sqlx::PgConnection, p: Uuid, id: Uuid, v: i32) -> DbResult<bool> {
        participants::delete_element(db, p, id, v).await
    }
}

impl Item for Placement {
    type Input = PlacementInput;
    type Patch = PlacementPatch;
    const SECTION: &'static str = "placement";
    fn version(&self) -> i32 {
        self.version
    }
    fn data(&self) -> &PlacementInput {
        &self.data
    }
    fn validate(i: &PlacementInput, today: Date) -> Result<(), Vec<FieldError>> {
        i.validate(today)
    }
    fn apply(p: &PlacementPatch, c: &PlacementInput) -> (PlacementInput, Vec<&'static str>) {
        p.apply(c)
    }
    async fn list(db: &PgPool, p: Uuid) -> DbResult<Sealed<Vec<Self>>> {
        participants::list_placements(db, p).await
    }
    async fn get(db: &mut sqlx::PgConnection, p: Uuid, id: Uuid) -> DbResult<Sealed<Self>> {
        participants::get_placement(db, p, id).await
    }
    async fn owner_and(
        db: &PgPool,
        p: Uuid,
        id: Uuid,
    ) -> DbResult<Option<(Owner, Option<Sealed<Self>>)>> {
        participants::owner_and_placement(db, p, id).await
    }
    async fn create(
        db: &mut sqlx::PgConnection,
        p: Uuid,
        id: Uuid,
        i: &PlacementInput,
    ) -> DbResult<()> {
        participants::create_placement(db, p, id, i).await
    }
    async fn update(
        db: &PgPool,
        log: &WriteLog<'_>,
        p: Uuid,
        id: Uuid,
        v: i32,
        i: &PlacementInput,
    ) -> DbResult<Option<(Self, Audited)>> {
        participants::update_placement(db, log, p, id, v, i).await
    }
    async fn delete(db: &mut sqlx::PgConnection, p: Uuid, id: Uuid, v: i32) -> DbResult<bool> {
        participants::delete_placement(db, p, id, v).await
    }
}

fn not_found(e: DbError) -> AppError {
    match e {
        DbError::NotFound => AppError::NotFound,
        other => other.into(),
    }
}

async fn audit_read<I: Item>(app: &App, actor: &Actor, participant: Uuid) -> AppResult<Audited> {
    Ok(audit_participant(
        &app.pool,
        actor,
        &format!("{}.read", I::SECTION),
        participant,
    )
    .await?)
}

/// Every item of the kind, read whole (a participant has tens, not thousands).
async fn all<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    paging: &Paging,
) -> AppResult<(Vec<I>, Audited)> {
    access::participant(app, actor, Action::ParticipantRead, participant).await?;
    paging.resolve()?;
    let items = I::list(&app.pool, participant).await?;
    let proof = audit_read::<I>(app, actor, participant).await?;
    Ok((items.open(&proof), proof))
}

/// A page of the participant's items of kind `I`.
pub async fn list<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<Page<I>>> {
    let (items, proof) = all::<I>(app, actor, participant, &paging).await?;
    Ok(Disclosed::new(proof, None, Page::slice(items, &paging)?))
}

/// A page of the programme elements, with the attendance computed from all of them.
pub async fn list_elements(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<(Page<ProgrammeElement>, Attendance)>> {
    let (items, proof) = all::<ProgrammeElement>(app, actor, participant, &paging).await?;
    let att = attendance(
        items
            .iter()
            .map(|e| (e.data.kind, e.data.hours_planned, e.data.hours_attended)),
    );
    Ok(Disclosed::new(
        proof,
        None,
        (Page::slice(items, &paging)?, att),
    ))
}

pub async fn create<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    input: I::Input,
) -> AppResult<Disclosed<I>> {
    let (_, granted) =
        access::participant(app, actor, Action::ParticipantWrite, participant).await?;
    I::validate(&input, app.today())?;
    let id = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    I::create(&mut tx, participant, id, &input).await?;
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant,
            section: I::SECTION,
            record_id: id,
            operation: "create",
            fields: &[],
        },
    )
    .await?;
    let item = I::get(&mut tx, participant, id).await?.open(&proof);
    tx.commit().await?;
    let version = item.version();
    Ok(Disclosed::new(proof, Some(version), item))
}

pub async fn get<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    id: Uuid,
) -> AppResult<Disclosed<I>> {
    access::participant(app, actor, Action::ParticipantRead, participant).await?;
    let mut conn = app.pool.acquire().await?;
    let item = I::get(&mut conn, participant, id)
        .await
        .map_err(not_found)?;
    drop(conn);
    let proof = audit_read::<I>(app, actor, participant).await?;
    let item = item.open(&proof);
    let version = item.version();
    Ok(Disclosed::new(proof, Some(version), item))
}

/// Changes an item at the version the caller edited; the change, its history line and audit row
/// are one statement.
pub async fn update<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    id: Uuid,
    expected: Precondition,
    patch: I::Patch,
) -> AppResult<Disclosed<I>> {
    actor.require(Action::ParticipantWrite)?;
    let (owner, current) = I::owner_and(&app.pool, participant, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let granted = access::participant_owner(actor, Action::ParticipantWrite, &owner)?;
    let current = current.ok_or(AppError::NotFound)?;
    let version = expected.check(current.fact(|c| c.version()))?;
    // The patched item is computed from the current one; it is answered only after its audit.
    let (next, changed) = current.fact(|c| I::apply(&patch, c.data()));
    if changed.is_empty() {
        // Nothing changes, but the answer carries the item: a read, audited as one.
        let proof = audit_read::<I>(app, actor, participant).await?;
        let current = current.open(&proof);
        let v = current.version();
        return Ok(Disclosed::new(proof, Some(v), current));
    }
    I::validate(&next, app.today())?;
    let client = actor.client();
    let log = write_log(
        actor,
        &granted,
        client.as_deref(),
        I::SECTION,
        "update",
        &changed,
    );
    let (item, proof) = I::update(&app.pool, &log, participant, id, version, &next)
        .await?
        .ok_or(AppError::PreconditionFailed)?;
    let v = item.version();
    Ok(Disclosed::new(proof, Some(v), item))
}

/// Deletes an item entered in error, at the version the caller saw.
pub async fn delete<I: Item>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    id: Uuid,
    expected: Precondition,
) -> AppResult<()> {
    let (_, granted) =
        access::participant(app, actor, Action::ParticipantWrite, participant).await?;
    let mut conn = app.pool.acquire().await?;
    let current = I::get(&mut conn, participant, id)
        .await
        .map_err(not_found)?;
    drop(conn);
    let version = expected.check(current.fact(|c| c.version()))?;
    let mut tx = app.pool.begin().await?;
    if !I::delete(&mut tx, participant, id, version).await? {
        return Err(AppError::PreconditionFailed);
    }
    log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant,
            section: I::SECTION,
            record_id: id,
            operation: "delete",
            fields: &[],
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
