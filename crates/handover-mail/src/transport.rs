//! Sending: SMTP through lettre, or, in development without SMTP settings, `.eml` files.

use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a local relay or a test server).
    None,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

#[derive(Clone)]
pub enum TransportConfig {
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        username: Option<String>,
        password: Option<String>,
        timeout: Duration,
    },
    /// Write each message as a file into this directory.
    Files(PathBuf),
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportConfig::Smtp {
                host,
                port,
                security,
                ..
            } => {
                write!(f, "Smtp({host}:{port}, {security:?})")
            }
            TransportConfig::Files(p) => write!(f, "Files({})", p.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: String,
    pub transport: TransportConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The address itself is kept out of the message: errors end up in logs.
    #[error("invalid {0} address")]
    Address(&'static str),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("transport: {0}")]
    Transport(String),
}

enum Inner {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

pub struct Mailer {
    from: Mailbox,
    inner: Inner,
}

/// One message to send.
pub struct Outgoing<'a> {
    /// A stable id, so a message retried after an uncertain failure has the same Message-ID and
    /// receivers can drop the duplicate.
    pub message_id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// A calendar object and its method (`REQUEST`, `CANCEL`).
    pub ics: Option<(&'a str, &'a str)>,
}

impl Mailer {
    pub fn new(cfg: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|_| MailError::Address("sender"))?;
        let inner = match &cfg.transport {
            TransportConfig::Smtp {
                host,
                port,
                security,
                username,
                password,
                timeout,
            } => {
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .port(*port)
                    .timeout(Some(*timeout));
                let tls = || {
                    TlsParameters::new(host.clone())
                        .map_err(|e| MailError::Transport(e.to_string()))
                };
                b = match security {
                    SmtpSecurity::None => b.tls(Tls::None),
                    SmtpSecurity::StartTls => b.tls(Tls::Required(tls()?)),
                    SmtpSecurity::Tls => b.tls(Tls::Wrapper(tls()?)),
                };
                if let (Some(u), Some(p)) = (username, password) {
                    b = b.credentials(Credentials::new(u.clone(), p.clone()));
                }
                Inner::Smtp(b.build())
            }
            TransportConfig::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| MailError::Transport(e.to_string()))?;
                Inner::Files(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        };
        Ok(Mailer { from, inner })
    }

    pub fn build(&self, m: &Outgoing<'_>) -> Result<Message, MailError> {
        let to: Mailbox = m.to.parse().map_err(|_| MailError::Address("recipient"))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .header(MessageId::from(format!("<{}@handover>", m.message_id)));
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.to_owned());
        let msg = match m.ics {
            None => builder.singlepart(text),
            Some((ics, method)) => {
                let ct =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                        .map_err(|e| MailError::Build(e.to_string()))?;
                let calendar = SinglePart::builder().header(ct).body(ics.to_owned());
                builder.multipart(
                    MultiPart::mixed().multipart(
                        MultiPart::alternative()
                            .singlepart(text)
                            .singlepart(calendar),
                    ),
                )
            }
        };
        msg.map_err(|e| MailError::Build(e.to_string()))
    }

    pub async fn send(&self, m: &Outgoing<'_>) -> Result<(), MailError> {
        let msg = self.build(m)?;
        match &self.inner {
            Inner::Smtp(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Transport(e.to_string())),
            Inner::Files(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Transport(e.to_string())),
        }
    }

    /// Whether the error is about the message itself (retrying cannot help).
    pub fn is_permanent(e: &MailError) -> bool {
        matches!(e, MailError::Address(_) | MailError::Build(_))
    }
}
