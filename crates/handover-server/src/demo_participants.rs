//! Demo participants: about twenty at each reception centre, with records in every state.
//! Names are invented.

use handover_db::PgPool;
use handover_db::participants::{self, Change};
use handover_domain::participant::*;
use handover_domain::{OrgId, UserId};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// Invented names per origin, in the order of `ORIGIN`: (given names, family names).
const NAMES: [([&str; 4], [&str; 4]); 6] = [
    (
        ["Amanuel", "Selam", "Yonas", "Hiwet"],
        ["Tesfamariam", "Ghebremedhin", "Haile", "Berhane"],
    ),
    (
        ["Ahmad", "Layla", "Omar", "Rania"],
        ["Al-Khatib", "Haddad", "Darwish", "Nasser"],
    ),
    (
        ["Farid", "Zainab", "Mahmoud", "Parwana"],
        ["Rahimi", "Hosseini", "Karimi", "Noori"],
    ),
    (
        ["Oksana", "Dmytro", "Iryna", "Mykola"],
        ["Kovalenko", "Shevchenko", "Bondarenko", "Melnyk"],
    ),
    (
        ["Abdi", "Hodan", "Ayaan", "Mahad"],
        ["Warsame", "Abdullahi", "Farah", "Jama"],
    ),
    (
        ["Yusuf", "Nadia", "Ibrahim", "Amani"],
        ["Saleh", "Mohamed", "Osman", "Idris"],
    ),
];
/// (first language, interpreter language, country of education)
const ORIGIN: [(&str, &str, &str); 6] = [
    ("ti", "ti", "ER"),
    ("ar", "ar", "SY"),
    ("prs", "prs", "AF"),
    ("uk", "uk", "UA"),
    ("so", "so", "SO"),
    ("ar", "ar", "SD"),
];

fn demo_id(centre: &str, i: usize, what: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("handover-demo-{centre}-{i}-{what}").as_bytes(),
    )
}

fn d_number(i: usize, centre_no: usize) -> Option<String> {
    // Day 41-68 (day + 40), month 1-12, year 80-99, individual number varied until valid.
    let day = 41 + (i * 3 + centre_no) % 28;
    let month = 1 + (i * 5) % 12;
    let year = 80 + (i * 7 + centre_no) % 20;
    (0..100).find_map(|k| {
        d_number_with_check_digits(&format!(
            "{day:02}{month:02}{year:02}{:03}",
            100 + k + 10 * i
        ))
    })
}

pub async fn load(
    pool: &PgPool,
    centre: OrgId,
    centre_slug: &str,
    centre_no: usize,
    staff: UserId,
    staff_name: &str,
) -> anyhow::Result<usize> {
    let today = OffsetDateTime::now_utc().date();
    let mut created = 0;
    for i in 0..20usize {
        let id = demo_id(centre_slug, i, "participant");
        if participants::owner(pool, id).await?.is_some() {
            continue;
        }
        let (lang, interp, country) = ORIGIN[(i + centre_no) % ORIGIN.len()];
        let arrival = today - Duration::days(40 + 11 * i as i64);
        let start = arrival + Duration::days(14);
        let status = match i % 7 {
            6 => ParticipantStatus::LeftProgramme,
            0 | 3 => ParticipantStatus::Settled,
            _ => ParticipantStatus::InProgramme,
        };
        let born = Date::from_calendar_date(
            1975 + (i as i32 * 3 + centre_no as i32) % 30,
            time::Month::try_from(1 + (i % 12) as u8)?,
            1 + (i % 27) as u8,
        )?;
        let input = ParticipantInput {
            given_name: NAMES[(i + centre_no) % ORIGIN.len()].0[(i / 6 + centre_no) % 4].into(),
            family_name: NAMES[(i + centre_no) % ORIGIN.len()].1[(i / 3 + 2 * centre_no) % 4]
                .into(),
            date_of_birth: born,
            duf_number: Some(format!(
                "{}{:08}",
                2024 + (i % 2),
                10_000_000 + centre_no * 1_000_000 + i * 7919
            )),
            d_number: if i % 3 == 0 {
                d_number(i, centre_no)
            } else {
                None
            },
            languages: vec![
                SpokenLanguage {
                    language: lang.into(),
                    level: LanguageLevel::Native,
                },
                SpokenLanguage {
                    language: "en".into(),
                    level: if i % 2 == 0 {
                        LanguageLevel::Good
                    } else {
                        LanguageLevel::Basic
                    },
                },
            ],
            interpreter_language: Some(interp.into()),
            arrival_date: arrival,
            programme_start: Some(start),
            programme_end: (status != ParticipantStatus::InProgramme)
                .then(|| start + Duration::days(90 + i as i64))
                .filter(|d| *d <= today),
            status,
            notes: Some(if i % 4 == 1 {
                "Ønsker å jobbe med barn. Har to barn i barnehagealder.".into()
            } else {
                String::new()
            }),
        };
        let mut tx = pool.begin().await?;
        participants::create(&mut *tx, id, centre, &input, staff).await?;
        let change = |section: &'static str, record: Uuid| Change {
            participant: id,
            actor: staff,
            actor_name: staff_name,
            section,
            record_id: record,
            operation: "create",
            fields: &[],
        };
        participants::record_change(&mut *tx, &change("participant", id)).await?;
        // Every fourth participant is newly registered: nothing more recorded yet.
        if i % 4 != 2 {
            let mapping = CompetenceMappingInput {
                education: vec![Education {
                    level: [
                        EducationLevel::UpperSecondary,
                        EducationLevel::Bachelor,
                        EducationLevel::Primary,
                        EducationLevel::Vocational,
                    ][i % 4],
                    years: [12.0, 15.0, 6.0, 11.0][i % 4],
                    field: Some(
                        ["Allmennfag", "Sykepleie", "Grunnskole", "Elektrofag"][i % 4].into(),
                    ),
                    country: Some(country.into()),
                    documents_for_recognition: i % 2 == 0,
                }],
                work_experience: vec![WorkExperience {
                    occupation: [
                        "Butikkmedarbeider",
                        "Sykepleier",
                        "Bonde",
                        "Elektriker",
                        "Lærer",
                        "Sjåfør",
                    ][i % 6]
                        .into(),
                    years: (1 + i % 8) as f64,
                    country: Some(country.into()),
                }],
                driving_licences: if i % 3 == 0 { vec!["B".into()] } else { vec![] },
                certificates: vec![],
                digital_skills: [
                    DigitalSkills::Basic,
                    DigitalSkills::Intermediate,
                    DigitalSkills::Advanced,
                ][i % 3],
                own_goals: [
                    "Jeg vil bli sykepleier i Norge.",
                    "Jeg vil ha fast jobb og lære godt norsk.",
                    "Jeg vil ta fagbrev som elektriker.",
                ][i % 3]
                    .into(),
                mapped_on: start + Duration::days(7),
            };
            handover_db::documents::put(
                &mut tx,
                id,
                None,
                &mapping,
                handover_db::documents::Author {
                    id: staff,
                    name: staff_name,
                },
            )
            .await?;
            participants::record_change(&mut *tx, &change("competence_mapping", id)).await?;
            let level = [Cefr::A1, Cefr::A2, Cefr::B1, Cefr::A2][i % 4];
            let assessed = (start + Duration::days(60)).min(today);
            let norwegian = NorwegianTrainingInput {
                levels: Skill::ALL
                    .iter()
                    .map(|s| SkillLevel {
                        skill: *s,
                        level: if *s == Skill::Oral {
                            level.max(Cefr::A2)
                        } else {
                            level
                        },
                        assessed_on: assessed,
                    })
                    .collect(),
                tests: if i % 2 == 0 {
                    vec![
                        TestOutcome {
                            test: TestKind::NorskprovenOral,
                            taken_on: assessed,
                            result: TestResult::A2,
                        },
                        TestOutcome {
                            test: TestKind::SocialStudiesTest,
                            taken_on: assessed,
                            result: if i % 4 == 0 {
                                TestResult::Passed
                            } else {
                                TestResult::Failed
                            },
                        },
                    ]
                } else {
                    vec![]
                },
                course_hours_planned: 300.0,
                course_hours_attended: 300.0 - (i % 5) as f64 * 20.0,
            };
            handover_db::documents::put(
                &mut tx,
                id,
                None,
                &norwegian,
                handover_db::documents::Author {
                    id: staff,
                    name: staff_name,
                },
            )
            .await?;
            participants::record_change(&mut *tx, &change("norwegian_training", id)).await?;
            let elements = [
                (ElementKind::Norwegian, "Norskopplæring", 300.0, 0.0, "nb"),
                (
                    ElementKind::SocialStudies,
                    "Samfunnskunnskap",
                    50.0,
                    0.0,
                    interp,
                ),
                (
                    ElementKind::WorkOriented,
                    "Arbeidsrettet aktivitet",
                    80.0,
                    10.0,
                    "nb",
                ),
                (
                    ElementKind::LifeSkillsCourse,
                    "Livsmestringskurs",
                    20.0,
                    0.0,
                    interp,
                ),
                (
                    ElementKind::VoluntaryOrganisation,
                    "Røde Kors leksehjelp",
                    24.0,
                    6.0,
                    "nb",
                ),
            ];
            for (k, (kind, title, planned, missed, language)) in
                elements.iter().enumerate().take(2 + i % 4)
            {
                let eid = demo_id(centre_slug, i, &format!("element-{k}"));
                let end = (start + Duration::days(120)).min(today);
                let e = ProgrammeElementInput {
                    kind: *kind,
                    title: Some((*title).into()),
                    start_date: start,
                    end_date: Some(end),
                    hours_planned: *planned,
                    hours_attended: (planned - missed - (i % 3) as f64 * 4.0).max(0.0),
                    language_of_instruction: Some((*language).into()),
                    outcome: Some("Fullført med godt oppmøte.".into()),
                };
                participants::create_element(&mut *tx, id, eid, &e).await?;
                participants::record_change(&mut *tx, &change("programme_element", eid)).await?;
            }
            if i % 2 == 1 {
                let pid = demo_id(centre_slug, i, "placement");
                let p = PlacementInput {
                    kind: if i % 4 == 1 { PlacementKind::LanguagePractice } else { PlacementKind::WorkPractice },
                    employer_name: ["Kiwi Lundsiden", "Sørlandet sykehus", "Steinkjer kommune, Egge sykehjem", "Coop Extra"][i % 4].into(),
                    start_date: start + Duration::days(30),
                    end_date: Some((start + Duration::days(90)).min(today).max(start + Duration::days(30))),
                    hours: 96.0,
                    tasks: "Varemottak, påfylling av hyller, kundekontakt.".into(),
                    employer_feedback: Some("Punktlig og arbeidsom, god kontakt med kolleger. Trenger mer norsk i kundedialog.".into()),
                };
                participants::create_placement(&mut *tx, id, pid, &p).await?;
                participants::record_change(&mut *tx, &change("placement", pid)).await?;
            }
        }
        tx.commit().await?;
        created += 1;
    }
    Ok(created)
}

/// Pathways by participant profile: (offering key, reason).
const PATHWAYS: [&[(&str, &str)]; 4] = [
    &[
        (
            "introduksjonsprogram",
            "Gir rammen for videre norskopplæring og arbeidsrettet løp etter bosetting.",
        ),
        (
            "fagbrev-pa-jobb",
            "Har lang arbeidserfaring i faget; fagbrev på jobb gir formell kompetanse.",
        ),
    ],
    &[
        (
            "godkjenning-utenlandsk-utdanning",
            "Har sykepleierutdanning med dokumentasjon; søke godkjenning først.",
        ),
        (
            "kompletterende-utdanning",
            "Kan trenge tillegg for å få autorisasjon i Norge.",
        ),
        (
            "autorisasjon-lovregulerte-yrker",
            "Målet er autorisasjon som sykepleier.",
        ),
    ],
    &[
        (
            "introduksjonsprogram",
            "Trenger grunnleggende ferdigheter og norsk.",
        ),
        (
            "forberedende-opplaering-for-voksne-fov",
            "Har kort skolegang; FOV gir grunnlag for videre opplæring.",
        ),
        (
            "videregaende-opplaering-for-voksne",
            "Langsiktig mål om fagbrev.",
        ),
    ],
    &[
        (
            "arbeidstrening",
            "Ønsker raskt i arbeid; arbeidstrening gir referanser.",
        ),
        (
            "modulstrukturert-fag-og-yrkesopplaering",
            "Fagopplæring i moduler ved siden av arbeid.",
        ),
    ],
];

/// Guidance summaries for most demo participants: finals (some superseded), drafts.
pub async fn load_guidance(
    pool: &PgPool,
    centre_slug: &str,
    career_centre: OrgId,
    counsellor: UserId,
    counsellor_name: &str,
) -> anyhow::Result<()> {
    use handover_db::guidance::{self, NewSummary};
    use handover_domain::guidance::*;
    let today = OffsetDateTime::now_utc().date();
    for i in 0..20usize {
        // Newly registered participants (no mapping yet) have had no guidance.
        if i % 4 == 2 {
            continue;
        }
        let participant = demo_id(centre_slug, i, "participant");
        let first = demo_id(centre_slug, i, "guidance-1");
        if guidance::summary_participant(pool, first).await?.is_some() {
            continue;
        }
        let pathway: Vec<PathwayStepInput> = PATHWAYS[i % PATHWAYS.len()]
            .iter()
            .map(|(key, reason)| PathwayStepInput {
                offering_id: guidance::offering_id(key),
                reason: (*reason).into(),
            })
            .collect();
        let Ok(steps) = guidance::resolve_steps(pool, &pathway).await? else {
            // An administrator retired an offering the demo uses; skip rather than fail start-up.
            continue;
        };
        let interpreter = ORIGIN[(i + if centre_slug == "krs" { 0 } else { 1 }) % ORIGIN.len()].1;
        let input = GuidanceSummaryInput {
            sessions: vec![
                GuidanceSession { date: today - Duration::days(30), kind: SessionKind::Group, topic: "Arbeidsliv og utdanning i Norge".into(), interpreter_used: true, interpreter_language: Some(interpreter.into()) },
                GuidanceSession { date: today - Duration::days(20), kind: SessionKind::Individual, topic: "Egne mål og muligheter".into(), interpreter_used: true, interpreter_language: Some(interpreter.into()) },
            ],
            interests: "Praktisk arbeid, helse og omsorg.".into(),
            strengths: "Motivert, stabil, god til å samarbeide.".into(),
            experience: "Arbeidserfaring fra hjemlandet, se kartleggingen.".into(),
            goals_short_term: "Bedre norsk muntlig, språkpraksis.".into(),
            goals_long_term: "Fast jobb i yrket sitt.".into(),
            pathway,
            covered: "Informasjon om utdanningssystemet, godkjenning av utdanning og egne mål.".into(),
            left_for_section_11: "Konkret utdanningsplan og valg av opplæringssted etter bosetting; vurdering av realkompetanse.".into(),
        };
        let mut tx = pool.begin().await?;
        let n = NewSummary {
            id: first,
            participant,
            career_centre,
            author: counsellor,
            author_name: counsellor_name,
        };
        guidance::create_draft(&mut tx, &n, &input, &steps).await?;
        // Most are final; every fifth stays a draft; every seventh has a newer final superseding it.
        if i % 5 != 4 {
            guidance::finalise(&mut tx, first, 1, counsellor).await?;
            if i % 7 == 1 {
                let second = demo_id(centre_slug, i, "guidance-2");
                let mut newer = input.clone();
                newer.goals_short_term = "Bestå Norskprøven muntlig på B1.".into();
                let n = NewSummary { id: second, ..n };
                guidance::create_draft(&mut tx, &n, &newer, &steps).await?;
                guidance::finalise(&mut tx, second, 1, counsellor).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}
