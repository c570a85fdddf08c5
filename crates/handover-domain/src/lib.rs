//! The rules of the handover service, free of I/O: who may do what, and what valid input is.

pub mod audit;
pub mod conversation;
pub mod guidance;
pub mod handover;
pub mod ids;
pub mod org;
pub mod oslo;
pub mod page;
pub mod participant;
pub mod password;
pub mod policy;
pub mod statistics;
pub mod user;
pub mod validation;

pub use ids::{OrgId, UserId};
pub use org::{OrgKind, Organisation, Role};
pub use page::{Page, Paging};
pub use policy::{Action, Decision, Relation};
pub use user::{Caller, User};
pub use validation::{FieldError, Validator};
