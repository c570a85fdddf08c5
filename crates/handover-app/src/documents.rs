//! The four documents a participant has at most one of (competence mapping, Norwegian training,
//! settlement decision, health and adaptation needs): one read and one conditional write for
//! all, so their access, audit, history and version rules cannot drift apart.

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Disclosed, Sealed, audit_participant};
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use crate::record::{Changed, log_write};
use handover_db::documents::{self, Author, Document, Upsert};
use handover_db::{DbResult, handovers, participants};
use handover_domain::handover::{
    AdaptationNeeds, AdaptationNeedsInput, Settlement, SettlementInput,
};
use handover_domain::participant::{
    CompetenceMapping, CompetenceMappingInput, NorwegianTraining, NorwegianTrainingInput,
    changed_fields,
};
use handover_domain::{Action, FieldError, OrgKind};
use serde::Serialize;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

/// A document's rules: what it is called in the history and audit log, which action reads and
/// writes it, how it is validated and loaded.
pub trait Kept: Document + Serialize + Sync {
    type Stored: Send;
    /// The section in the history and the audit action's prefix.
    const SECTION: &'static str;
    /// Reading needs this action on the participant, writing the other.
    const READ: Action;
    const WRITE: Action;
    /// Whether the history names the fields changed. Not for health and adaptation needs: the
    /// name of a field there is itself health information.
    const NAMES_FIELDS: bool = true;

    fn load(
        db: &mut PgConnection,
        participant: Uuid,
    ) -> impl Future<Output = DbResult<Sealed<Option<Self::Stored>>>> + Send;
    fn stored_data(s: &Self::Stored) -> &Self;
    fn version(s: &Self::Stored) -> i32;
    fn validate(&self, today: Date) -> Result<(), Vec<FieldError>>;
    /// Checks against other records (after validation, before the write).
    fn check_references(&self, _app: &App) -> impl Future<Output = AppResult<()>> + Send {
        async { Ok(()) }
    }
}

impl Kept for CompetenceMappingInput {
    type Stored = CompetenceMapping;
    const SECTION: &'static str = "competence_mapping";
    const READ: Action = Action::ParticipantRead;
    const WRITE: Action = Action::ParticipantWrite;
    async fn load(db: &mut PgConnection, p: Uuid) -> DbResult<Sealed<Option<CompetenceMapping>>> {
        participants::get_mapping(db, p).await
    }
    fn stored_data(s: &CompetenceMapping) -> &Self {
        &s.data
    }
    fn version(s: &CompetenceMapping) -> i32 {
        s.version
    }
    fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        CompetenceMappingInput::validate(self, today)
    }
}

impl Kept for NorwegianTrainingInput {
    type Stored = NorwegianTraining;
    const SECTION: &'static str = "norwegian_training";
    const READ: Action = Action::ParticipantRead;
    const WRITE: Action = Action::ParticipantWrite;
    async fn load(db: &mut PgConnection, p: Uuid) -> DbResult<Sealed<Option<NorwegianTraining>>> {
        participants::get_norwegian(db, p).await
    }
    fn stored_data(s: &NorwegianTraining) -> &Self {
        &s.data
    }
    fn version(s: &NorwegianTraining) -> i32 {
        s.version
    }
    fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        NorwegianTrainingInput::validate(self, today)
    }
}

impl Kept for SettlementInput {
    type Stored = Settlement;
    const SECTION: &'static str = "settlement";
    // Only the centre preparing a handover works with these.
    const READ: Action = Action::HandoverPrepare;
    const WRITE: Action = Action::HandoverPrepare;
    async fn load(db: &mut PgConnection, p: Uuid) -> DbResult<Sealed<Option<Settlement>>> {
        handovers::get_settlement(db, p).await
    }
    fn stored_data(s: &Settlement) -> &Self {
        &s.data
    }
    fn version(s: &Settlement) -> i32 {
        s.version
    }
    fn validate(&self, _today: Date) -> Result<(), Vec<FieldError>> {
        SettlementInput::validate(self)
    }
    /// The municipality must be an active municipality in the register.
    async fn check_references(&self, app: &App) -> AppResult<()> {
        let is_municipality = match handover_db::orgs::get(&app.pool, self.municipality_id).await {
            Ok(o) => o.kind == OrgKind::Municipality && o.active,
            Err(handover_db::DbError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if is_municipality {
            Ok(())
        } else {
            Err(AppError::field(
                "municipality_id",
                "not_a_municipality",
                "must be an active municipality in the organisation register",
            ))
        }
    }
}

impl Kept for AdaptationNeedsInput {
    type Stored = AdaptationNeeds;
    const SECTION: &'static str = "adaptation_needs";
    // Only the centre preparing a handover works with these.
    const READ: Action = Action::HandoverPrepare;
    const WRITE: Action = Action::HandoverPrepare;
    const NAMES_FIELDS: bool = false;
    async fn load(db: &mut PgConnection, p: Uuid) -> DbResult<Sealed<Option<AdaptationNeeds>>> {
        handovers::get_adaptation(db, p).await
    }
    fn stored_data(s: &AdaptationNeeds) -> &Self {
        &s.data
    }
    fn version(s: &AdaptationNeeds) -> i32 {
        s.version
    }
    fn validate(&self, _today: Date) -> Result<(), Vec<FieldError>> {
        AdaptationNeedsInput::validate(self)
    }
}

/// The participant's document of kind `D` (404 until one is recorded).
pub async fn get<D: Kept>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
) -> AppResult<Disclosed<D::Stored>> {
    access::participant(app, actor, D::READ, participant).await?;
    let mut conn = app.pool.acquire().await?;
    let doc = D::load(&mut conn, participant)
        .await?
        .transpose()
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let proof = audit_participant(
        &app.pool,
        actor,
        &format!("{}.read", D::SECTION),
        participant,
    )
    .await?;
    let doc = doc.open(&proof);
    let version = D::version(&doc);
    Ok(Disclosed::new(proof, Some(version), doc))
}

/// Whether a [`put`] created the document or replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Replaced,
}

/// Records the document (none exists and no version is named) or replaces the version named.
pub async fn put<D: Kept>(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    expected: Precondition,
    input: D,
) -> AppResult<(Put, Disclosed<D::Stored>)> {
    let (_, granted) = access::participant(app, actor, D::WRITE, participant).await?;
    let mut conn = app.pool.acquire().await?;
    let current = D::load(&mut conn, participant).await?;
    drop(conn);
    let expected = expected.check_optional(current.fact(|c| c.as_ref().map(D::version)))?;
    input.validate(app.today())?;
    input.check_references(app).await?;
    // Which fields change is a fact about the write, not a disclosure of the old values.
    let fields = current.fact(|c| match (c, D::NAMES_FIELDS) {
        (Some(c), true) => changed_fields(D::stored_data(c), &input),
        _ => Vec::new(),
    });
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let by = Author {
        id: actor.caller.user_id,
        name: &actor.caller.name,
    };
    let mut tx = app.pool.begin().await?;
    let put = match documents::put(&mut tx, participant, expected, &input, by).await? {
        Upsert::Created => Put::Created,
        Upsert::Updated => Put::Replaced,
        Upsert::VersionMismatch => return Err(AppError::PreconditionFailed),
        Upsert::PreconditionRequired => return Err(AppError::PreconditionRequired),
    };
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant,
            section: D::SECTION,
            record_id: participant,
            operation: if put == Put::Created {
                "create"
            } else {
                "update"
            },
            fields: &fields,
        },
    )
    .await?;
    let doc = D::load(&mut tx, participant)
        .await?
        .open(&proof)
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let version = D::version(&doc);
    Ok((put, Disclosed::new(proof, Some(version), doc)))
}
