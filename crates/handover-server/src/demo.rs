//! Demo data: both reception centres, both career centres, municipalities, and one user of every
//! role in two organisations of each kind. Loaded only with `serve --demo`; idempotent.

use crate::admin::ensure_operator_org;
use handover_db::{PgPool, orgs, users};
use handover_domain::{OrgId, OrgKind, Role, UserId};
use uuid::Uuid;

/// Every demo account has this password. Demo data never loads in production mode.
pub const DEMO_PASSWORD: &str = "demo-passord-2026";

pub struct DemoLogin {
    pub email: String,
    pub role: Role,
    pub organisation: String,
}

fn demo_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("handover-demo-{name}").as_bytes(),
    )
}

pub const KRISTIANSAND: &str = "Integreringsmottaket i Kristiansand";
pub const STEINKJER: &str = "Integreringsmottaket i Steinkjer";
pub const AGDER: &str = "Karrieresenteret i Agder";
pub const TRONDELAG: &str = "Karrieresenteret i Trøndelag";
pub const IMDI: &str = "Integrerings- og mangfoldsdirektoratet (IMDi)";

async fn ensure_org(
    pool: &PgPool,
    slug: &str,
    kind: OrgKind,
    name: &str,
    county: Option<&str>,
    serves: Option<OrgId>,
) -> anyhow::Result<OrgId> {
    let id = OrgId(demo_id(slug));
    match orgs::get(pool, id).await {
        Ok(_) => {}
        Err(handover_db::DbError::NotFound) => {
            orgs::create(
                pool,
                &orgs::NewOrganisation {
                    id,
                    kind,
                    name,
                    municipality_number: None,
                    county,
                    serves_reception_centre_id: serves,
                },
            )
            .await?
        }
        Err(e) => return Err(e.into()),
    }
    Ok(id)
}

pub async fn load(state: &handover_api::AppState) -> anyhow::Result<Vec<DemoLogin>> {
    let (pool, hasher) = (&state.pool, &state.hasher);
    // The demo makes its handovers and conversations through the API, which queues their
    // notifications and invitations; they go to made-up addresses and must never reach a
    // configured SMTP relay (see `discard_demo_mail`).
    let (last_mail, started): (i64, time::OffsetDateTime) =
        sqlx::query_as("SELECT coalesce(max(id), 0), now() FROM outbox")
            .fetch_one(pool)
            .await?;
    let operator = ensure_operator_org(pool).await?;
    let krs = ensure_org(
        pool,
        "krs",
        OrgKind::ReceptionCentre,
        KRISTIANSAND,
        Some("Agder"),
        None,
    )
    .await?;
    let stj = ensure_org(
        pool,
        "stj",
        OrgKind::ReceptionCentre,
        STEINKJER,
        Some("Trøndelag"),
        None,
    )
    .await?;
    let agder = ensure_org(
        pool,
        "agder",
        OrgKind::CareerCentre,
        AGDER,
        Some("Agder"),
        Some(krs),
    )
    .await?;
    let trond = ensure_org(
        pool,
        "trondelag",
        OrgKind::CareerCentre,
        TRONDELAG,
        Some("Trøndelag"),
        Some(stj),
    )
    .await?;
    let imdi = ensure_org(pool, "imdi", OrgKind::Directorate, IMDI, None, None).await?;
    let kommune_krs = orgs::find_by_municipality_number(pool, "4204").await?.id;
    let kommune_trd = orgs::find_by_municipality_number(pool, "5001").await?.id;

    let hash = hasher
        .hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let accounts: [(&str, &str, Role, OrgId, &str); 15] = [
        (
            "drift.admin@demo.no",
            "Drift Administrator",
            Role::Admin,
            operator,
            "Driftsoperatør",
        ),
        (
            "admin.mottak-kristiansand@demo.no",
            "Anne Admin (mottak Kristiansand)",
            Role::Admin,
            krs,
            KRISTIANSAND,
        ),
        (
            "ansatt.mottak-kristiansand@demo.no",
            "Kari Mottaksansatt",
            Role::CentreStaff,
            krs,
            KRISTIANSAND,
        ),
        (
            "admin.mottak-steinkjer@demo.no",
            "Arne Admin (mottak Steinkjer)",
            Role::Admin,
            stj,
            STEINKJER,
        ),
        (
            "ansatt.mottak-steinkjer@demo.no",
            "Per Mottaksansatt",
            Role::CentreStaff,
            stj,
            STEINKJER,
        ),
        (
            "admin.karriere-agder@demo.no",
            "Astrid Admin (Agder)",
            Role::Admin,
            agder,
            AGDER,
        ),
        (
            "veileder.karriere-agder@demo.no",
            "Vilde Veileder",
            Role::CareerCounsellor,
            agder,
            AGDER,
        ),
        (
            "admin.karriere-trondelag@demo.no",
            "Anders Admin (Trøndelag)",
            Role::Admin,
            trond,
            TRONDELAG,
        ),
        (
            "veileder.karriere-trondelag@demo.no",
            "Viktor Veileder",
            Role::CareerCounsellor,
            trond,
            TRONDELAG,
        ),
        (
            "admin.kommune-kristiansand@demo.no",
            "Aud Admin (Kristiansand kommune)",
            Role::Admin,
            kommune_krs,
            "Kristiansand kommune",
        ),
        (
            "ansatt.kommune-kristiansand@demo.no",
            "Siri Kommuneansatt",
            Role::MunicipalityStaff,
            kommune_krs,
            "Kristiansand kommune",
        ),
        (
            "admin.kommune-trondheim@demo.no",
            "Atle Admin (Trondheim kommune)",
            Role::Admin,
            kommune_trd,
            "Trondheim kommune",
        ),
        (
            "ansatt.kommune-trondheim@demo.no",
            "Trond Kommuneansatt",
            Role::MunicipalityStaff,
            kommune_trd,
            "Trondheim kommune",
        ),
        (
            "admin.imdi@demo.no",
            "Ida Admin (IMDi)",
            Role::Admin,
            imdi,
            IMDI,
        ),
        (
            "analytiker.imdi@demo.no",
            "Ivar Analytiker",
            Role::DirectorateStaff,
            imdi,
            IMDI,
        ),
    ];
    let mut logins = Vec::new();
    for (email, name, role, org, org_name) in accounts {
        let id = UserId(demo_id(email));
        match users::get(pool, id).await {
            Ok(_) => {}
            Err(handover_db::DbError::NotFound) => {
                users::create(
                    pool,
                    &users::NewUser {
                        id,
                        organisation_id: org,
                        email,
                        name,
                        role,
                        password_hash: Some(&hash),
                    },
                )
                .await?
            }
            Err(e) => return Err(e.into()),
        }
        logins.push(DemoLogin {
            email: email.to_owned(),
            role,
            organisation: org_name.to_owned(),
        });
    }
    let krs_staff = UserId(demo_id("ansatt.mottak-kristiansand@demo.no"));
    let stj_staff = UserId(demo_id("ansatt.mottak-steinkjer@demo.no"));
    crate::demo_participants::load(pool, krs, "krs", 0, krs_staff, "Kari Mottaksansatt").await?;
    crate::demo_participants::load(pool, stj, "stj", 1, stj_staff, "Per Mottaksansatt").await?;
    let agder_counsellor = UserId(demo_id("veileder.karriere-agder@demo.no"));
    let trd_counsellor = UserId(demo_id("veileder.karriere-trondelag@demo.no"));
    crate::demo_participants::load_guidance(pool, "krs", agder, agder_counsellor, "Vilde Veileder")
        .await?;
    crate::demo_participants::load_guidance(pool, "stj", trond, trd_counsellor, "Viktor Veileder")
        .await?;
    let kommune_krs_staff = UserId(demo_id("ansatt.kommune-kristiansand@demo.no"));
    let kommune_trd_staff = UserId(demo_id("ansatt.kommune-trondheim@demo.no"));
    let receivers = [("4204", kommune_krs_staff), ("5001", kommune_trd_staff)];
    for (slug, staff) in [("krs", krs_staff), ("stj", stj_staff)] {
        crate::demo_handovers::load(
            state,
            slug,
            staff,
            &crate::demo_handovers::plan(slug),
            &receivers,
        )
        .await?;
    }
    use crate::demo_handovers::load_conversations;
    load_conversations(
        state,
        "krs",
        krs_staff,
        kommune_krs_staff,
        &[(3, "confirmed"), (1, "cancelled")],
    )
    .await?;
    load_conversations(
        state,
        "stj",
        stj_staff,
        kommune_trd_staff,
        &[(0, "held"), (3, "proposed")],
    )
    .await?;
    discard_demo_mail(pool, last_mail, started).await?;
    Ok(logins)
}

/// Drops the e-mails the demo's own API calls queued and marks the demo's confirmed
/// conversations as reminded, so that loading the demo sends nothing anywhere. E-mails of what
/// people then do in the demo are sent as usual.
async fn discard_demo_mail(
    pool: &handover_db::PgPool,
    last_mail: i64,
    started: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let dropped = sqlx::query("DELETE FROM outbox WHERE id > $1 AND status = 'pending'")
        .bind(last_mail)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE conversations SET reminded_for = confirmed_start
         WHERE created_at >= $1 AND confirmed_start IS NOT NULL AND reminded_for IS NULL",
    )
    .bind(started)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if dropped > 0 {
        tracing::info!(dropped, "demo data: its own notifications were not sent");
    }
    Ok(())
}
