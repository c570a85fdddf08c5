//! The handover file as an archival document: PDF/A-3b (ISO 19005-3, level B), or PDF/A-2b
//! without the attachment for archives that take no PDF/A-3, written by
//! krilla, which checks the PDF/A rules it can while it writes and refuses to finish a file that
//! breaks them. Level 3 rather than 2 because the document carries the machine-readable file
//! version (its JSON) inside, as an associated file: one archived document holds the record a
//! person reads and the one a system reads.
//!
//! Fonts are embedded (DejaVu Sans, subset); the text is tagged (sections, headings,
//! paragraphs, tables with their header cells) so a screen reader reads it in order; page
//! numbers and running headers are marked as decoration. The same input and generation time
//! give the same bytes.

mod file;
mod layout;

use handover_domain::handover::FileSection;
use handover_i18n::Lang;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, TableHeaderScope, Tag, TagGroup,
    TagKind, TagTree,
};
use krilla::{Document, SerializeSettings};
use layout::{Flow, Fonts, Kind, Node};
use std::num::NonZeroU16;
use time::{Date, OffsetDateTime};

/// One sent version of a handover file, as the recipient may see it now.
pub struct FileDocument<'a> {
    pub reference: &'a str,
    pub file_version: i32,
    pub sent_at: OffsetDateTime,
    pub sent_by_name: &'a str,
    pub reception_centre_name: &'a str,
    pub municipality_name: &'a str,
    pub settlement_date: Option<Date>,
    /// What was missing when it was sent (as readable sentences), and why it was sent anyway.
    pub missing: &'a [String],
    pub missing_reason: Option<&'a str>,
    pub sections: &'a [FileSection],
    /// When this document is made: printed on the cover and in the metadata. The same file
    /// version and time give the same bytes.
    pub generated_at: OffsetDateTime,
    /// The file version as the JSON API answers it, embedded as it is (PDF/A-3b only).
    pub json: &'a [u8],
    pub profile: Profile,
}

/// Which part of PDF/A the document conforms to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// PDF/A-3b with the JSON file version inside (the default).
    #[default]
    A3b,
    /// PDF/A-2b without attachments, for an archive that takes PDF/A-1 and PDF/A-2 only
    /// (PDF/A-2 allows no embedded file that is not itself PDF/A).
    A2b,
}

#[derive(Debug)]
pub enum PdfError {
    /// The embedded fonts did not load (a broken build).
    Font,
    /// krilla refused to write the document, for example because a PDF/A rule would break.
    Write(String),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::Font => write!(f, "the embedded fonts did not load"),
            PdfError::Write(e) => write!(f, "the PDF could not be written: {e}"),
        }
    }
}

impl std::error::Error for PdfError {}

/// The name of the embedded JSON inside the PDF.
pub fn attachment_name(reference: &str, version: i32) -> String {
    format!("{reference}-v{version}.json")
}

/// The file version as PDF/A-3b, in `lang`.
pub fn render(doc: &FileDocument<'_>, lang: Lang) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load().ok_or(PdfError::Font)?;
    let m = lang.messages();
    let mut flow = Flow::new(&fonts);
    file::build(&mut flow, doc, lang);
    let pages = flow.pages;

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(match doc.profile {
            Profile::A3b => Archival::A3_B,
            Profile::A2b => Archival::A2_B,
        })
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let mut ids: Vec<Option<Identifier>> = (0..flow.lines.len()).map(|_| None).collect();
    let running = m.f(
        "pdf.running",
        &[
            ("reference", doc.reference),
            ("version", &doc.file_version.to_string()),
        ],
    );
    for page_no in 0..pages {
        let mut page = document.start_page_with(
            PageSettings::from_wh(layout::PAGE_W, layout::PAGE_H)
                .ok_or_else(|| PdfError::Write("page size".into()))?,
        );
        let mut surface = page.surface();
        for (i, line) in flow.lines.iter().enumerate() {
            if line.page != page_no {
                continue;
            }
            let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
            draw_text(
                &mut surface,
                &fonts,
                line.x,
                line.y,
                line.size,
                line.bold,
                &line.text,
            );
            surface.end_tagged();
            ids[i] = Some(id);
        }
        for line in flow.repeated.iter().filter(|l| l.page == page_no) {
            artifact(&mut surface, ArtifactType::PaginationOther, |s| {
                draw_text(s, &fonts, line.x, line.y, line.size, line.bold, &line.text)
            });
        }
        for rule in flow.rules.iter().filter(|r| r.page == page_no) {
            artifact(&mut surface, ArtifactType::Layout, |s| {
                let mut pb = PathBuilder::new();
                pb.move_to(rule.x1, rule.y1);
                pb.line_to(rule.x2, rule.y2);
                if let Some(path) = pb.finish() {
                    s.set_fill(None);
                    s.set_stroke(Some(Stroke {
                        width: rule.width,
                        ..Stroke::default()
                    }));
                    s.draw_path(&path);
                    s.set_stroke(None);
                }
            });
        }
        let number = m.f(
            "pdf.pages",
            &[
                ("page", &(page_no + 1).to_string()),
                ("pages", &pages.to_string()),
            ],
        );
        artifact(&mut surface, ArtifactType::PaginationOther, |s| {
            draw_text(
                s,
                &fonts,
                layout::MARGIN_X,
                40.0,
                layout::SMALL,
                false,
                &running,
            );
            let w = fonts.width(&number, layout::SMALL, false);
            draw_text(
                s,
                &fonts,
                layout::PAGE_W - layout::MARGIN_X - w,
                layout::PAGE_H - 36.0,
                layout::SMALL,
                false,
                &number,
            );
        });
        surface.finish();
        page.finish();
    }

    let mut tree = TagTree::new().with_lang(Some(lang.code().to_owned()));
    for node in flow.roots {
        if let Some(n) = tag_node(node, &mut ids) {
            tree.push(n);
        }
    }
    document.set_tag_tree(tree);

    let mut outline = Outline::new();
    for mark in &flow.marks {
        outline.push_child(OutlineNode::new(
            mark.title.clone(),
            krilla::destination::XyzDestination::new(mark.page, Point::from_xy(0.0, mark.y)),
        ));
    }
    document.set_outline(outline);

    let generated = pdf_date(doc.generated_at);
    let title = format!("{} {}", m.t("pdf.title"), doc.reference);
    document.set_metadata(
        Metadata::new()
            .title(title)
            .description(m.f(
                "pdf.description",
                &[
                    ("reference", doc.reference),
                    ("version", &doc.file_version.to_string()),
                    ("from", doc.reception_centre_name),
                    ("to", doc.municipality_name),
                ],
            ))
            .keywords(vec![
                doc.reference.to_owned(),
                format!("{}:{}", m.t("pdf.file_version"), doc.file_version),
            ])
            .language(lang.code().to_owned())
            .creator(doc.reception_centre_name.to_owned())
            .producer(format!("handover-service {}", env!("CARGO_PKG_VERSION")))
            .authors(vec![doc.sent_by_name.to_owned()])
            .creation_date(generated)
            .document_id(format!("{}-v{}", doc.reference, doc.file_version)),
    );
    if doc.profile == Profile::A3b {
        let mime =
            MimeType::new("application/json").ok_or_else(|| PdfError::Write("mime type".into()))?;
        document
            .embed_file(EmbeddedFile {
                path: attachment_name(doc.reference, doc.file_version),
                mime_type: Some(mime),
                description: Some(m.f(
                    "pdf.attachment_description",
                    &[
                        ("reference", doc.reference),
                        ("version", &doc.file_version.to_string()),
                    ],
                )),
                association_kind: AssociationKind::Source,
                data: doc.json.to_vec().into(),
                modification_date: Some(pdf_date(doc.sent_at)),
                compress: Some(true),
                location: None,
            })
            .ok_or_else(|| PdfError::Write("the JSON could not be attached".into()))?;
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

fn draw_text(
    s: &mut Surface<'_>,
    fonts: &Fonts,
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: &str,
) {
    let font = if bold {
        fonts.krilla_bold.clone()
    } else {
        fonts.krilla_regular.clone()
    };
    s.draw_text(
        Point::from_xy(x, y),
        font,
        size,
        text,
        false,
        // Each line shaped in the direction of its script (right to left for a name in Arabic
        // letters); a line that mixes directions is not reordered.
        krilla::text::TextDirection::Auto,
    );
}

fn artifact(s: &mut Surface<'_>, kind: ArtifactType, draw: impl FnOnce(&mut Surface<'_>)) {
    s.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
    draw(s);
    s.end_tagged();
}

fn tag_kind(kind: Kind) -> TagKind {
    match kind {
        Kind::Section => Tag::Section.into(),
        Kind::Heading(level, title) => Tag::Hn(
            NonZeroU16::new(level).unwrap_or(NonZeroU16::MIN),
            Some(title),
        )
        .into(),
        Kind::Paragraph | Kind::Note => Tag::P.into(),
        Kind::Table => Tag::Table.into(),
        Kind::Head => Tag::THead.into(),
        Kind::Body => Tag::TBody.into(),
        Kind::Row => Tag::TR.into(),
        Kind::HeaderCell { row_scope } => Tag::TH(if row_scope {
            TableHeaderScope::Row
        } else {
            TableHeaderScope::Column
        })
        .into(),
        Kind::Cell => Tag::TD.into(),
    }
}

/// The laid-out structure as krilla's tag tree, each line by the identifier it was drawn with.
fn tag_node(node: Node, ids: &mut [Option<Identifier>]) -> Option<krilla::tagging::Node> {
    match node {
        Node::Line(i) => ids.get_mut(i).and_then(Option::take).map(Into::into),
        Node::Group(kind, children) => {
            let children: Vec<krilla::tagging::Node> = children
                .into_iter()
                .filter_map(|c| tag_node(c, ids))
                .collect();
            // An empty group is dropped: a cell with no text is no structure to read.
            (!children.is_empty()).then(|| TagGroup::with_children(tag_kind(kind), children).into())
        }
    }
}

fn pdf_date(t: OffsetDateTime) -> DateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    DateTime::new(u16::try_from(t.year()).unwrap_or(2026))
        .month(u8::from(t.month()))
        .day(t.day())
        .hour(t.hour())
        .minute(t.minute())
        .second(t.second())
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}
