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
    Updated {
        file_version: i32,
    },
    Cancelled,
    Declined,
    /// The municipality reported what came of the handover (integration plan, end goal).
    OutcomeReported,
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
        HandoverNotice::OutcomeReported => (
            "Utfall etter bosetting",
            format!(
                "{organisation} har meldt hva som ble resultatet etter bosettingen (integreringsplan og sluttmål)."
            ),
            format!(
                "{organisation} has reported the outcome after settlement (integration plan and end goal)."
            ),
        ),
    };
    Notice {
        subject: format!("{subject_nb} {reference} / Handover {reference}"),
        body: format!(
            "{line_nb}\n\nReferanse: {reference}\nÅpne: {link}\n\nLogg inn for å se innholdet. Denne e-posten inneholder ingen personopplysninger.\n\n-- \nIn English: {line_en} Reference {reference}; open {link} and log in to see it.\n"
        ),
    }
}

/// A handover file withdrawn because the participant was erased at their request (GDPR art.
/// 17): the municipality is told to delete its own copies. No link: the file is gone.
pub fn withdrawal_notice(reference: &str, organisation: &str) -> Notice {
    Notice {
        subject: format!("Overføring trukket tilbake {reference} / Handover {reference} withdrawn"),
        body: format!(
            "{organisation} har slettet opplysningene om deltakeren i overføring {reference} etter en \
             anmodning om sletting (personvernforordningen artikkel 17). Overføringsmappen finnes ikke \
             lenger i tjenesten.\n\nSlett også kopier dere har tatt av mappen (utskrifter, lagrede \
             PDF-filer), med mindre annen lov pålegger dere å beholde dem. Spørsmål om slettingen \
             går til {organisation}.\n\nDenne e-posten inneholder ingen personopplysninger.\n\n-- \n\
             In English: {organisation} has erased the participant's data in handover {reference} at \
             their request (GDPR Article 17). The handover file is no longer in the service. Please \
             also delete any copies you made (printouts, saved PDF files) unless another law requires \
             you to keep them.\n"
        ),
    }
}

/// The password-setup e-mail for a new account.
pub fn password_setup(link: &str, valid_hours: u64) -> Notice {
    Notice {
        subject: "Velg passord / Choose your password".into(),
        body: format!(
            "Du har fått en konto i overføringstjenesten. Velg passord her (lenken virker én gang og i {valid_hours} timer):\n{link}\n\nEtterpå logger du inn på tjenesten med e-postadressen din og det nye passordet.\n\n-- \nIn English: an account has been created for you; choose your password with the link above (valid once, for {valid_hours} hours), then sign in with your e-mail address and the new password.\n"
        ),
    }
}

/// A password reset asked for by an administrator, for an account that has a password. Sent to
/// the account's own address only: nobody else ever sees the link.
pub fn password_reset(link: &str, valid_hours: u64, organisation: &str) -> Notice {
    Notice {
        subject: "Nytt passord for kontoen din / A new password for your account".into(),
        body: format!(
            "En administrator i {organisation} har bedt om at du velger et nytt passord i overføringstjenesten. Velg det her (lenken virker én gang og i {valid_hours} timer):\n{link}\n\nDitt nåværende passord virker til du bruker lenken. Ventet du ikke denne e-posten, si fra til administratoren din og ikke bruk lenken.\n\n-- \nIn English: an administrator of {organisation} asked for you to choose a new password. Use the link above (valid once, for {valid_hours} hours); your current password works until you do. If you did not expect this, tell your administrator and do not use the link.\n"
        ),
    }
}

/// Sent when someone asked for a new password on the sign-in page: perhaps the owner, perhaps
/// not, so the text says the current password keeps working unless the link is used.
pub fn password_forgotten(link: &str, valid_hours: u64) -> Notice {
    Notice {
        subject: "Nytt passord for kontoen din / A new password for your account".into(),
        body: format!(
            "Noen ba om nytt passord for denne e-postadressen på innloggingssiden til overføringstjenesten. Velg et nytt her (lenken virker én gang og i {valid_hours} timer):\n{link}\n\nVar det ikke deg, kan du se bort fra denne e-posten: passordet ditt virker som før til lenken blir brukt.\n\n-- \nIn English: someone asked for a new password for this address on the service's sign-in page. Choose one with the link above (valid once, for {valid_hours} hours). If it was not you, ignore this e-mail: your password works as before unless the link is used.\n"
        ),
    }
}

/// Sent after the password of an account that had one was changed, so its owner learns of a
/// change they did not make.
pub fn password_changed(when: &str) -> Notice {
    Notice {
        subject: "Passordet ditt er endret / Your password was changed".into(),
        body: format!(
            "Passordet til kontoen din i overføringstjenesten ble endret {when}. Alle innlogginger er avsluttet.\n\nVar det ikke deg, si fra til administratoren din med en gang.\n\n-- \nIn English: the password of your account was changed on {when} and every session was signed out. If this was not you, tell your administrator at once.\n"
        ),
    }
}

/// Sent when two-step sign-in is turned on for the account (by its owner, or at an
/// administrator's first sign-in).
pub fn second_factor_enabled(when: &str) -> Notice {
    Notice {
        subject: "Totrinnsinnlogging er slått på / Two-step sign-in is on".into(),
        body: format!(
            "Totrinnsinnlogging ble slått på for kontoen din i overføringstjenesten {when}. Fra nå av ber innloggingen om en kode fra autentiseringsappen.\n\nVar det ikke deg, si fra til administratoren din med en gang.\n\n-- \nIn English: two-step sign-in was turned on for your account on {when}; from now on signing in asks for a code from the authenticator app. If this was not you, tell your administrator at once.\n"
        ),
    }
}

/// Sent when the account's second factor is removed: by its owner, or reset by an
/// administrator of `organisation`.
pub fn second_factor_removed(when: &str, by_admin_of: Option<&str>) -> Notice {
    let (nb, en) = match by_admin_of {
        Some(org) => (
            format!(
                "En administrator i {org} har nullstilt totrinnsinnloggingen for kontoen din i overføringstjenesten {when}. Alle innlogginger er avsluttet."
            ),
            format!(
                "an administrator of {org} reset the two-step sign-in of your account on {when}, and every session was signed out."
            ),
        ),
        None => (
            format!(
                "Totrinnsinnlogging ble slått av for kontoen din i overføringstjenesten {when}."
            ),
            format!("two-step sign-in was turned off for your account on {when}."),
        ),
    };
    Notice {
        subject: "Totrinnsinnlogging er endret / Two-step sign-in was changed".into(),
        body: format!(
            "{nb}\n\nVar ikke dette avtalt, si fra til administratoren din med en gang.\n\n-- \nIn English: {en} If this was not agreed, tell your administrator at once.\n"
        ),
    }
}

/// Sent to the old address when an administrator changes an account's e-mail address.
pub fn email_changed(new_address: &str, organisation: &str) -> Notice {
    Notice {
        subject: "E-postadressen din er endret / Your e-mail address was changed".into(),
        body: format!(
            "En administrator i {organisation} har endret e-postadressen til kontoen din i overføringstjenesten til {new_address}. Meldinger fra tjenesten går dit fra nå av.\n\nVar ikke dette avtalt, si fra til administratoren din med en gang.\n\n-- \nIn English: an administrator of {organisation} changed the e-mail address of your account to {new_address}; messages go there from now on. If this was not agreed, tell your administrator at once.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_notices_name_the_organisation_in_both_languages() {
        let r = password_reset("https://x.no/password-setup#token=t", 72, "Mottaket");
        assert!(r.body.contains("En administrator i Mottaket"));
        assert!(r.body.contains("an administrator of Mottaket"));
        assert!(r.body.contains("#token=t") && r.body.contains("72"));
        let f = second_factor_removed("1. desember 2026 kl. 10.00", Some("Mottaket"));
        assert!(f.body.contains("En administrator i Mottaket"));
        assert!(f.body.contains("an administrator of Mottaket"));
        assert!(second_factor_enabled("i dag").body.contains("i dag"));
        let e = email_changed("ny@x.no", "Mottaket");
        assert!(e.body.contains("ny@x.no") && e.body.contains("an administrator of Mottaket"));
        assert!(password_changed("1.12.2026").body.contains("1.12.2026"));
    }

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
