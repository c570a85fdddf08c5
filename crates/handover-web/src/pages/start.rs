//! The start page: what needs doing, by role.

use super::{PageResult, page};
use crate::WebState;
use crate::session::Staff;
use crate::view::Shell;
use askama::Template;
use axum::extract::State;
use handover_app::actions::{self, ActionQuery};
use handover_app::conversations::{self, ConversationQuery};
use handover_app::handovers::{self, HandoverQuery};
use handover_app::start::SettlingSoon;
use handover_app::users::{self, UserQuery};
use handover_app::{AppError, start};
use handover_domain::conversation::TrackedAction;
use handover_domain::conversation::{Conversation, ConversationState};
use handover_domain::handover::{Handover, HandoverState};
use handover_domain::page::Paging;
use handover_domain::{Role, User};

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    shell: Shell,
    role: Role,
    settling: Vec<SettlingSoon>,
    declined: Vec<Handover>,
    unread: Vec<Handover>,
    to_answer: Vec<Conversation>,
    /// Open agreed actions past their due date that the caller's organisation is responsible
    /// for (every staff role).
    overdue: Vec<TrackedAction>,
    overdue_total: i64,
    users: Vec<User>,
    users_total: i64,
    ahead_days: i64,
}

const SHORT: Paging = Paging {
    limit: Some(20),
    offset: None,
};

pub async fn start(State(state): State<WebState>, staff: Staff) -> PageResult {
    let app = &state.app;
    let m = staff.lang.messages();
    let mut p = StartPage {
        shell: Shell::staff(&staff, "/", m.t("start.title").to_owned()),
        role: staff.caller.role,
        settling: Vec::new(),
        declined: Vec::new(),
        unread: Vec::new(),
        to_answer: Vec::new(),
        overdue: Vec::new(),
        overdue_total: 0,
        users: Vec::new(),
        users_total: 0,
        ahead_days: start::AHEAD_DAYS,
    };
    match staff.caller.role {
        Role::CentreStaff => {
            p.settling = start::settling_soon(app, &staff).await?;
            p.declined = handovers::list(
                app,
                &staff,
                HandoverQuery {
                    state: Some(HandoverState::Declined),
                    paging: SHORT,
                    ..Default::default()
                },
            )
            .await?
            .items;
            p.to_answer = proposals_to_answer(&state, &staff).await?;
        }
        Role::MunicipalityStaff => {
            p.unread = handovers::list(
                app,
                &staff,
                HandoverQuery {
                    unread: Some(true),
                    paging: SHORT,
                    ..Default::default()
                },
            )
            .await?
            .items;
            p.to_answer = proposals_to_answer(&state, &staff).await?;
        }
        Role::Admin => {
            let page = users::list(
                app,
                &staff,
                UserQuery {
                    organisation_id: Some(staff.caller.org_id),
                    paging: SHORT,
                    ..Default::default()
                },
            )
            .await?;
            p.users_total = page.total;
            p.users = page.items;
        }
        Role::CareerCounsellor | Role::DirectorateStaff => {}
    }
    if !matches!(staff.caller.role, Role::Admin | Role::DirectorateStaff) {
        let page = actions::mine(
            app,
            &staff,
            ActionQuery {
                overdue: true,
                paging: SHORT,
                ..Default::default()
            },
        )
        .await?;
        p.overdue_total = page.total;
        p.overdue = page.items;
    }
    page(&p)
}

/// Conversations the other side proposed and this side has not answered, from now on.
async fn proposals_to_answer(
    state: &WebState,
    staff: &Staff,
) -> Result<Vec<Conversation>, AppError> {
    let page = conversations::for_org(
        &state.app,
        staff,
        ConversationQuery {
            from: Some(state.app.now()),
            to: None,
            paging: Paging {
                limit: Some(50),
                offset: None,
            },
        },
    )
    .await?;
    Ok(page
        .items
        .into_iter()
        .filter(|c| {
            c.state == ConversationState::Proposed
                && c.proposed_by_organisation_id != staff.caller.org_id
        })
        .collect())
}
