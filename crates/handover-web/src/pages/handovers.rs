//! The pages e-mails link to: a handover and a transfer conversation. A link opened without a
//! session goes through sign-in and back here. These show the state and history the API
//! shows, under the same access rule and audit row; the actions on them are part 2's.

use super::{PageResult, page, parse_id};
use crate::WebState;
use crate::session::Staff;
use crate::view::Shell;
use askama::Template;
use axum::extract::{Path, State};
use handover_app::handovers::Detail;
use handover_app::{conversations, handovers};
use handover_domain::conversation::Conversation;

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    shell: Shell,
    d: Detail,
}

pub async fn handover(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    let d = handovers::get(&state.app, &staff, id).await?.body;
    let title = format!(
        "{} {}",
        staff.lang.messages().t("handover.title"),
        d.handover.reference
    );
    page(&HandoverPage {
        shell: Shell::staff(&staff, &format!("/handovers/{id}"), title),
        d,
    })
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    shell: Shell,
    c: Conversation,
}

pub async fn conversation(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    let c = conversations::get(&state.app, &staff, id).await?.body;
    let title = format!(
        "{} {}",
        staff.lang.messages().t("conversation.title"),
        c.handover_reference
    );
    page(&ConversationPage {
        shell: Shell::staff(&staff, &format!("/conversations/{id}"), title),
        c,
    })
}
