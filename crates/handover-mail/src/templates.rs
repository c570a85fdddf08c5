//! Notification texts. Subjects carry only the handover reference; bodies a reference and a link,
//! never a participant's name or other personal data.

/// A rendered notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub subject: String,
    pub body: String,
}

/// What happened to a handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverNotice {
    Sent,
    Updated { file_version: i32 },
    Cancelled,
    Declined,
}

pub fn handover_notice(
    kind: HandoverNotice,
    reference: &str,
    link: &str,
    organisation: &str,
) -> Notice {
    let (subject_nb, line_nb, line_en) = match kind {
        HandoverNotice::Sent => (
            "Ny overføring",
            format!("{organisation} har sendt en overføringsmappe til dere."),
            format!("{organisation} has sent you a handover file."),
        ),
        HandoverNotice::Updated { file_version } => (
            "Oppdatert overføring",
            format!(
                "{organisation} har sendt en oppdatert overføringsmappe (versjon {file_version})."
            ),
            format!("{organisation} has sent an updated handover file (version {file_version})."),
        ),
        HandoverNotice::Cancelled => (
            "Overføring avbrutt",
            format!("{organisation} har avbrutt overføringen."),
            format!("{organisation} has cancelled the handover."),
        ),
        HandoverNotice::Declined => (
            "Overføring avvist",
            format!("{organisation} har avvist overføringen. Se begrunnelsen i tjenesten."),
            format!("{organisation} has declined the handover. See the reason in the service."),
        ),
    };
    Notice {
        subject: format!("{subject_nb} {reference} / Handover {reference}"),
        body: format!(
            "{line_nb}\n\nReferanse: {reference}\nÅpne: {link}\n\nLogg inn for å se innholdet. Denne e-posten inneholder ingen personopplysninger.\n\n-- \nIn English: {line_en} Reference {reference}; open {link} and log in to see it.\n"
        ),
    }
}

/// The password-setup e-mail for a new account.
pub fn password_setup(link: &str, valid_hours: u64) -> Notice {
    Notice {
        subject: "Velg passord / Choose your password".into(),
        body: format!(
            "Du har fått en konto i overføringstjenesten. Velg passord her (lenken virker én gang og i {valid_hours} timer):\n{link}\n\n-- \nIn English: an account has been created for you; choose your password with the link above (valid once, for {valid_hours} hours).\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_carry_reference_and_link_in_both_languages() {
        let n = handover_notice(
            HandoverNotice::Sent,
            "HO-2026-000001",
            "https://x.no/h/1",
            "Integreringsmottaket i Kristiansand",
        );
        assert_eq!(
            n.subject,
            "Ny overføring HO-2026-000001 / Handover HO-2026-000001"
        );
        assert!(n.body.contains("https://x.no/h/1"));
        assert!(n.body.contains("In English"));
        let u = handover_notice(HandoverNotice::Updated { file_version: 3 }, "R", "L", "O");
        assert!(u.body.contains("versjon 3") && u.body.contains("version 3"));
    }
}
