//! Readiness: whether the use cases can reach what they run on.

use crate::App;
use crate::error::AppResult;

/// The database answers (503 from the interface otherwise).
pub async fn ready(app: &App) -> AppResult<()> {
    handover_db::ping(&app.pool).await?;
    Ok(())
}
