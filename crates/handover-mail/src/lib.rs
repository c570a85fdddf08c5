//! E-mail: message texts (Norwegian with an English line, no personal data beyond a reference
//! and a link), MIME messages with calendar parts, and the SMTP or file transport.

pub mod calendar;
pub mod templates;
pub mod transport;

pub use transport::{MailConfig, Mailer, SmtpSecurity, TransportConfig};
